import { Image as OfficialImage } from "@daytona/sdk"
import * as Image from "@effect-daytona/sdk/Image"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import { sdkSandbox } from "./sdkHarness.js"

describe("Image builds on the local server", () => {
  it.live(
    "a sandbox created from an Image goes through the build and records its Dockerfile",
    () =>
      Effect.gen(function* () {
        const { daytona } = yield* sdkSandbox()
        const image = Image.debianSlim("3.11").pipe(
          Image.pipInstall(["requests", "numpy==2.1.0"]),
          Image.env({ GREETING: "hello world" }),
          Image.runCommands(["echo", "it's built"]),
          Image.workdir("/home/daytona"),
          Image.cmd(["sleep", "infinity"])
        )
        const sandbox = yield* daytona.create({ image })
        assert.strictEqual(sandbox.state, "started")
        assert.strictEqual(sandbox.buildInfo?.dockerfileContent, image.dockerfile)
        const again = yield* daytona.get(sandbox.id)
        assert.strictEqual(again.buildInfo?.dockerfileContent, image.dockerfile)
        assert.match(again.buildInfo?.snapshotRef ?? "", /^local\/build:/)
      }).pipe(Effect.scoped),
    30_000
  )
})

/** Strings made of characters both SDKs quote alike, and any printable character for shell quoting. */
const word = FastCheck.string({
  unit: FastCheck.constantFrom(..."aZ09-_./ '\"\\$`!#&()*,:;<=>?@[]^{|}~%+\té"),
  maxLength: 8
})
const plainArg = FastCheck.string({
  unit: FastCheck.constantFrom(..."aZ09-_./ !#&()*,:;<=>?@[]^{|}~%+é"),
  maxLength: 8
})

describe("Image renders the official SDK's Dockerfile text", () => {
  const thisFile = NodeUrl.fileURLToPath(import.meta.url)
  const thisDir = NodePath.dirname(thisFile)
  const cases: ReadonlyArray<readonly [string, Image.Image, OfficialImage]> = [
    ["base", Image.base("python:3.12-slim"), OfficialImage.base("python:3.12-slim")],
    ["debianSlim default", Image.debianSlim(), OfficialImage.debianSlim()],
    ...(["3.9", "3.10", "3.11", "3.12", "3.13"] as const).map(
      (v) => [`debianSlim ${v}`, Image.debianSlim(v), OfficialImage.debianSlim(v)] as const
    ),
    [
      "pipInstall with every option",
      Image.base("x").pipe(
        Image.pipInstall(["b", "a==1", "c d", "it's"], {
          findLinks: ["f1", "f 2"],
          indexUrl: "https://i x",
          extraIndexUrls: ["e1", "e'2"],
          pre: true,
          extraOptions: "--no-cache-dir"
        })
      ),
      OfficialImage.base("x").pipInstall(["b", "a==1", "c d", "it's"], {
        findLinks: ["f1", "f 2"],
        indexUrl: "https://i x",
        extraIndexUrls: ["e1", "e'2"],
        pre: true,
        extraOptions: "--no-cache-dir"
      })
    ],
    [
      "runCommands",
      Image.base("x").pipe(Image.runCommands("echo hi && ls -la", ["python", "-c", "print(1 + 2)"])),
      OfficialImage.base("x").runCommands("echo hi && ls -la", ["python", "-c", "print(1 + 2)"])
    ],
    [
      "env, workdir, entrypoint, cmd, dockerfileCommands",
      Image.base("x").pipe(
        Image.env({ B: "2", A: "two words", C: "it's", D: "", E: "$X" }),
        Image.workdir("/home/my dir"),
        Image.entrypoint(["python", "-m", "app"]),
        Image.cmd(["--port", "8080"]),
        Image.dockerfileCommands(["RUN a", "USER daytona"])
      ),
      OfficialImage.base("x")
        .env({ B: "2", A: "two words", C: "it's", D: "", E: "$X" })
        .workdir("/home/my dir")
        .entrypoint(["python", "-m", "app"])
        .cmd(["--port", "8080"])
        .dockerfileCommands(["RUN a", "USER daytona"])
    ],
    [
      "addLocalFile and addLocalDir (text and context)",
      Image.base("x").pipe(Image.addLocalFile(thisFile, "/app/"), Image.addLocalDir(thisDir, "/data")),
      OfficialImage.base("x").addLocalFile(thisFile, "/app/").addLocalDir(thisDir, "/data")
    ]
  ]
  for (const [title, ours, theirs] of cases) {
    it(title, () => {
      assert.strictEqual(ours.dockerfile, theirs.dockerfile)
      assert.deepStrictEqual(ours.context, theirs.contextList)
    })
  }

  it("pipInstall, env and workdir quote like the official SDK (property)", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(word, { maxLength: 6 }),
        FastCheck.array(word, { maxLength: 2 }),
        word,
        FastCheck.dictionary(FastCheck.constantFrom("A", "B_2", "c"), word),
        (packages, findLinks, dir, vars) => {
          const ours = Image.base("x").pipe(
            Image.pipInstall(packages, { findLinks }),
            Image.env(vars),
            Image.workdir(dir)
          )
          const theirs = OfficialImage.base("x")
            .pipInstall([...packages], { findLinks })
            .env(vars)
            .workdir(dir)
          assert.strictEqual(ours.dockerfile, theirs.dockerfile)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("runCommands arrays, entrypoint and cmd match wherever the official text is correct (property)", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.array(plainArg, { minLength: 1, maxLength: 5 }), (args) => {
        const ours = Image.base("x").pipe(Image.runCommands(args), Image.entrypoint(args), Image.cmd(args))
        const theirs = OfficialImage.base("x")
          .runCommands([...args])
          .entrypoint([...args])
          .cmd([...args])
        assert.strictEqual(ours.dockerfile, theirs.dockerfile)
      }),
      { numRuns: 200 }
    )
  })
})
