import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as FastCheck from "effect/FastCheck"
import * as Hash from "effect/Hash"
import * as Schema from "effect/Schema"
import * as Image from "../src/Image.js"

const slimTail =
  "RUN apt-get update\n" +
  "RUN apt-get install -y gcc gfortran build-essential\n" +
  "RUN pip install --upgrade pip\n" +
  "RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections\n"

const onX = Image.base("x")

/** What `/bin/sh` makes of `words`: the arguments it passes to a command. */
const shellArgs = (words: ReadonlyArray<string>): ReadonlyArray<string> => {
  const output = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${words.join(" ")}`], { encoding: "utf8" })
  return output.split("\0").slice(0, -1)
}

/** Strings a Dockerfile line can carry: anything but line breaks and NUL. */
const lineSafe = FastCheck.string({ unit: "binary", maxLength: 12 }).filter((s) => !/[\n\r\0]/.test(s))
const tricky = FastCheck.string({
  unit: FastCheck.constantFrom(..."a Z0-_.'\"\\$`!#&()*,:;<=>?@[]^{|}~% +=\t/é\u00a0\u0001"),
  maxLength: 10
})

describe("Image Dockerfile text", () => {
  it("base", () => {
    assert.strictEqual(Image.base("python:3.12").dockerfile, "FROM python:3.12\n")
    assert.deepStrictEqual(Image.base("python:3.12").context, [])
    assert.deepStrictEqual(Image.base("python:3.12").issues, [])
  })

  it("debianSlim: default 3.13, each series to its micro version", () => {
    assert.strictEqual(Image.debianSlim().dockerfile, "FROM python:3.13.3-slim-bookworm\n" + slimTail)
    const micros = { "3.9": "3.9.22", "3.10": "3.10.17", "3.11": "3.11.12", "3.12": "3.12.10", "3.13": "3.13.3" }
    for (const [series, micro] of Object.entries(micros)) {
      const image = Image.debianSlim(series as Image.PythonVersion)
      assert.strictEqual(image.dockerfile, `FROM python:${micro}-slim-bookworm\n${slimTail}`)
      assert.deepStrictEqual(image.issues, [])
    }
  })

  it("debianSlim: an unsupported version is an issue, not a throw", () => {
    const image = Image.debianSlim("3.8" as Image.PythonVersion)
    assert.strictEqual(image.issues.length, 1)
    assert.include(image.issues[0], 'unsupported Python version "3.8"')
    assert.include(image.issues[0], "3.9, 3.10, 3.11, 3.12, 3.13")
    const error = Either.getLeft(Image.toBuildInfo(image))
    assert.isTrue(error._tag === "Some" && error.value.field === "image")
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Image.PythonVersion)("3.12.1")))
    assert.isTrue(Either.isRight(Schema.decodeUnknownEither(Image.PythonVersion)("3.12")))
  })

  it("pipInstall: sorted, shell-quoted packages, then the flags in a fixed order", () => {
    assert.strictEqual(
      onX.pipe(Image.pipInstall(["zeta", "alpha==1.0", "a b", "it's", ""])).dockerfile,
      "FROM x\nRUN python -m pip install '' 'a b' alpha\\=\\=1.0 \"it's\" zeta\n"
    )
    assert.strictEqual(
      onX.pipe(
        Image.pipInstall("numpy", {
          findLinks: ["f1", "f 2"],
          indexUrl: "https://i x",
          extraIndexUrls: ["e1", "e'2"],
          pre: true,
          extraOptions: "--no-cache-dir -U"
        })
      ).dockerfile,
      "FROM x\nRUN python -m pip install numpy --find-links f1 --find-links 'f 2' --index-url 'https://i x'" +
        ' --extra-index-url e1 --extra-index-url "e\'2" --pre --no-cache-dir -U\n'
    )
    assert.strictEqual(
      Image.pipInstall(onX, ["b", "a"], { indexUrl: "", pre: false, extraOptions: "" }).dockerfile,
      "FROM x\nRUN python -m pip install a b\n"
    )
    assert.strictEqual(Image.pipInstall(onX, []).dockerfile, "FROM x\n")
  })

  it("runCommands: a string as written, an array as quoted arguments", () => {
    assert.strictEqual(
      onX.pipe(Image.runCommands("echo hi && ls", ["echo", "a b", "it's"])).dockerfile,
      'FROM x\nRUN echo hi && ls\nRUN "echo" "a b" "it\'s"\n'
    )
    assert.strictEqual(
      Image.runCommands(onX, ["printf", '"q" $HOME `x` a\\b a\\\\b end\\']).dockerfile,
      'FROM x\nRUN "printf" "\\"q\\" \\$HOME \\`x\\` a\\b a\\\\\\b end\\\\"\n'
    )
    assert.deepStrictEqual(Image.runCommands(onX, []).issues, ["runCommands: an empty command"])
  })

  it("env: one ENV per key in order, values shell-quoted", () => {
    assert.strictEqual(
      onX.pipe(Image.env({ B: "2", A: "two words", C: "it's", D: "", E: "$X" })).dockerfile,
      "FROM x\nENV B=2\nENV A='two words'\nENV C=\"it's\"\nENV D=''\nENV E=\\$X\n"
    )
    assert.deepStrictEqual(Image.env(onX, { "NOT VALID": "x" }).issues, ['env: "NOT VALID" is not a variable name'])
    assert.deepStrictEqual(Image.env(onX, { A: 1 } as unknown as Record<string, string>).issues, [
      "env: the value of A is not a string"
    ])
  })

  it("workdir, entrypoint, cmd", () => {
    assert.strictEqual(Image.workdir(onX, "/app").dockerfile, "FROM x\nWORKDIR /app\n")
    assert.strictEqual(Image.workdir(onX, "/home/my dir").dockerfile, "FROM x\nWORKDIR '/home/my dir'\n")
    assert.strictEqual(
      onX.pipe(Image.entrypoint(["python", "-m", "app"])).dockerfile,
      'FROM x\nENTRYPOINT ["python", "-m", "app"]\n'
    )
    assert.strictEqual(
      onX.pipe(Image.cmd(["bash", "-c", "echo 'x' \"y\""])).dockerfile,
      'FROM x\nCMD ["bash", "-c", "echo \'x\' \\"y\\""]\n'
    )
    assert.strictEqual(Image.entrypoint(onX, []).dockerfile, "FROM x\nENTRYPOINT []\n")
  })

  it("dockerfileCommands: lines joined with newlines", () => {
    assert.strictEqual(Image.dockerfileCommands(onX, ["RUN a", "RUN b"]).dockerfile, "FROM x\nRUN a\nRUN b\n")
    const image = onX.pipe(
      Image.dockerfileCommands([
        "COPY --from=builder /out /app",
        "ADD https://example.com/a.tgz /tmp/",
        "RUN <<EOF\necho hi\nEOF"
      ])
    )
    assert.deepStrictEqual(image.context, [])
  })

  it("composition keeps call order", () => {
    const image = Image.debianSlim("3.9").pipe(
      Image.env({ X: "y" }),
      Image.workdir("/w"),
      Image.runCommands("make"),
      Image.pipInstall(["requests"]),
      Image.cmd(["python"])
    )
    assert.strictEqual(
      image.dockerfile,
      "FROM python:3.9.22-slim-bookworm\n" +
        slimTail +
        'ENV X=y\nWORKDIR /w\nRUN make\nRUN python -m pip install requests\nCMD ["python"]\n'
    )
    assert.deepStrictEqual(Image.toBuildInfo(image), Either.right({ dockerfileContent: image.dockerfile }))
  })

  it("derived images leave the original unchanged; values are frozen and structurally equal", () => {
    const original = Image.base("python:3.12")
    const derived = original.pipe(Image.pipInstall("numpy"), Image.addLocalFile("/src/a.py", "/app/"))
    assert.strictEqual(original.dockerfile, "FROM python:3.12\n")
    assert.deepStrictEqual(original.context, [])
    assert.strictEqual(derived.context.length, 1)
    assert.isTrue(Object.isFrozen(original) && Object.isFrozen(derived.context) && Object.isFrozen(derived.issues))
    assert.throws(() => {
      ;(derived.context as Array<Image.ContextEntry>).push({ sourcePath: "x", archivePath: "x" })
    })
    const again = Image.base("python:3.12").pipe(Image.pipInstall("numpy"), Image.addLocalFile("/src/a.py", "/app/"))
    assert.isTrue(Equal.equals(derived, again))
    assert.strictEqual(Hash.hash(derived), Hash.hash(again))
    assert.isFalse(Equal.equals(derived, original))
    assert.isTrue(Image.isImage(derived))
    assert.isFalse(Image.isImage({ dockerfile: "FROM x\n" }))
    assert.include(String(original), "FROM python:3.12")
  })
})

describe("Image build context", () => {
  it("addLocalFile, addLocalDir and pipInstallFromRequirements record COPY lines and context entries", () => {
    const image = onX.pipe(
      Image.addLocalFile("/src/main.py", "/app/"),
      Image.addLocalFile("/src/cfg.toml", "/etc/app.toml"),
      Image.addLocalDir("/src/pkg", "/app/pkg"),
      Image.pipInstallFromRequirements("/src/requirements.txt", { indexUrl: "i", pre: true, extraOptions: "-q" })
    )
    assert.strictEqual(
      image.dockerfile,
      "FROM x\nCOPY /src/main.py /app/main.py\nCOPY /src/cfg.toml /etc/app.toml\nCOPY /src/pkg /app/pkg\n" +
        "COPY /src/requirements.txt /.requirements.txt\n" +
        "RUN python -m pip install -r /.requirements.txt --index-url i --pre -q\n"
    )
    assert.deepStrictEqual(
      image.context.map((entry) => entry.sourcePath),
      ["/src/main.py", "/src/cfg.toml", "/src/pkg", "/src/requirements.txt"]
    )
    assert.deepStrictEqual(image.context[0], { sourcePath: "/src/main.py", archivePath: "/src/main.py" })
  })

  it("COPY and ADD lines in dockerfileCommands record their local sources", () => {
    const image = Image.dockerfileCommands(onX, [
      "COPY --chown=1 package.json tsconfig.json /app/",
      'COPY ["my file.txt", "/app/"]',
      "ADD vendor.tar /opt/"
    ])
    assert.deepStrictEqual(
      image.context.map((entry) => entry.sourcePath),
      ["package.json", "tsconfig.json", "my file.txt", "vendor.tar"]
    )
  })

  it("toBuildInfo refuses a context without the hashes of its upload, naming its paths", () => {
    const image = onX.pipe(Image.addLocalDir("/src/pkg", "/app"), Image.addLocalDir("/src/pkg", "/b"))
    const result = Image.toBuildInfo(image)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.strictEqual(result.left._tag, "ValidationError")
      assert.strictEqual(result.left.field, "image")
      assert.include(result.left.message, "upload them first (BuildContext.upload)")
      assert.include(result.left.message, "(/src/pkg)")
    }
    assert.deepStrictEqual(
      Image.toBuildInfo(image, ["h1", "h2"]),
      Either.right({ dockerfileContent: image.dockerfile, contextHashes: ["h1", "h2"] })
    )
  })
})

describe("Image quoting", () => {
  const table: ReadonlyArray<readonly [string, string]> = [
    ["", "''"],
    ["plain-1.0_x/y.z", "plain-1.0_x/y.z"],
    ["a b", "'a b'"],
    ["a\tb", "'a\tb'"],
    ['a"b', "'a\"b'"],
    ["a\\b", "'a\\b'"],
    ["it's", '"it\'s"'],
    ["'", '"\'"'],
    ['it\'s "q" $x `y` \\z', '"it\'s \\"q\\" \\$x \\`y\\` \\\\z"'],
    ["it's!", "'it'\"'\"'s!'"],
    ["$HOME", "\\$HOME"],
    ["a=b", "a\\=b"],
    ["x>=1", "x\\>\\=1"],
    ["~x", "\\~x"],
    ["#x", "\\#x"],
    ["*", "\\*"],
    ["ab:cd", "ab\\:cd"],
    ["x:#", "x:\\#"],
    ["é", "é"]
  ]
  for (const [input, expected] of table) {
    it(`quote(${JSON.stringify(input)}) = ${expected}`, () => {
      assert.strictEqual(Image.quote(input), expected)
    })
  }

  it("the shell reads back every quoted word exactly (table)", () => {
    const inputs = table.map(([input]) => input)
    assert.deepStrictEqual(shellArgs(inputs.map(Image.quote)), inputs)
  })

  it("the shell reads back every quoted word exactly (property)", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(FastCheck.oneof(lineSafe, tricky), { minLength: 1, maxLength: 6 }),
        (words) => {
          assert.deepStrictEqual(shellArgs(words.map(Image.quote)), words)
        }
      ),
      { numRuns: 150 }
    )
  })

  it("runCommands' array arguments reach the command exactly (property)", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.array(FastCheck.oneof(lineSafe, tricky), { minLength: 1, maxLength: 6 }), (args) => {
        const line = Image.runCommands(onX, args).dockerfile.split("\n")[1]!
        assert.deepStrictEqual(shellArgs([line.slice("RUN ".length)]), args)
      }),
      { numRuns: 150 }
    )
  })

  it("entrypoint and cmd are valid JSON exec forms (property)", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.array(FastCheck.oneof(lineSafe, tricky), { maxLength: 5 }), (args) => {
        const line = Image.cmd(onX, args).dockerfile.split("\n")[1]!
        assert.deepStrictEqual(JSON.parse(line.slice("CMD ".length)), args)
      })
    )
  })

  it("a value with a line break is an issue wherever it would be quoted", () => {
    const image = onX.pipe(
      Image.pipInstall(["ok", "a\nb"]),
      Image.env({ A: "x\ry" }),
      Image.workdir("/a\nb"),
      Image.runCommands(["echo", "a\nb"])
    )
    assert.strictEqual(image.issues.length, 4)
    assert.isTrue(Either.isLeft(Image.toBuildInfo(image)))
  })
})
