import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { attackServer, bwrapRequired, hasBwrap, realSleep, sh } from "./attackHarness.js"
import {
  advance,
  asApiError,
  asSandbox,
  call,
  type Client,
  clientLayer,
  createStarted,
  serve,
  tempDir
} from "./utils.js"

/** A volume, created and moved on to `ready` on the TestClock. */
const readyVolume = (client: Client, name: string) =>
  Effect.gen(function* () {
    const created = yield* call(client, "POST", "/api/volumes", { name })
    assert.strictEqual(created.status, 200, JSON.stringify(created.body))
    yield* advance("2 seconds")
    const id = (created.body as { readonly id: string }).id
    const volume = yield* call(client, "GET", `/api/volumes/${id}`)
    assert.strictEqual((volume.body as { readonly state: string }).state, "ready")
    return id
  })

const bwrapTest = hasBwrap || bwrapRequired ? it.scoped : undefined

describe("volumes mounted into sandboxes", () => {
  it.scoped('with isolation "none", volumes on create are refused with a 400 that says why', () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const id = yield* readyVolume(client, "v")
      const answer = yield* call(client, "POST", "/api/sandbox", { volumes: [{ volumeId: id, mountPath: "/mnt/v" }] })
      assert.strictEqual(answer.status, 400)
      assert.include(asApiError(answer).message, "bubblewrap")
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.(
    "two sandboxes mounting one volume see each other's files; subpaths; in use refuses delete with 409",
    () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        const id = yield* readyVolume(client, "shared")
        const a = yield* createStarted(client, { volumes: [{ volumeId: id, mountPath: "/mnt/shared" }] })
        assert.strictEqual(a.state, "started", a.errorReason ?? "")
        assert.deepStrictEqual(a.volumes, [{ volumeId: id, mountPath: "/mnt/shared" }])
        const b = yield* createStarted(client, {
          volumes: [{ volumeId: "shared", mountPath: "/home/daytona/data", subpath: "team/one" }]
        })
        assert.strictEqual(b.state, "started", b.errorReason ?? "")
        const wroteA = yield* sh(client, a.id, "echo from-a > /mnt/shared/a.txt && mkdir -p /mnt/shared/team/one")
        assert.strictEqual(wroteA.exitCode, 0, wroteA.result)
        const wroteB = yield* sh(client, b.id, "echo from-b > /home/daytona/data/b.txt && ls /home/daytona/data")
        assert.strictEqual(wroteB.exitCode, 0, wroteB.result)
        assert.strictEqual((yield* sh(client, a.id, "cat /mnt/shared/team/one/b.txt")).result, "from-b\n")
        // B sees only its subpath: a.txt at the volume's root is not reachable from B.
        assert.notStrictEqual((yield* sh(client, b.id, "cat /home/daytona/data/../a.txt /a.txt")).exitCode, 0)
        // The toolbox reads the volume through the sandbox's view.
        const listed = yield* call(client, "GET", `/toolbox/${a.id}/files?path=/mnt/shared`)
        assert.strictEqual(listed.status, 200, JSON.stringify(listed.body))
        assert.includeMembers(
          (listed.body as ReadonlyArray<{ readonly name: string }>).map((e) => e.name),
          ["a.txt", "team"]
        )

        const inUse = yield* call(client, "DELETE", `/api/volumes/${id}`)
        assert.strictEqual(inUse.status, 409)
        yield* call(client, "DELETE", `/api/sandbox/${a.id}`)
        yield* call(client, "DELETE", `/api/sandbox/${b.id}`)
        // Until their destroy step, deleted sandboxes still run processes that may change the volume.
        const deleting = yield* call(client, "DELETE", `/api/volumes/${id}`)
        assert.strictEqual(deleting.status, 409, JSON.stringify(deleting.body))
        yield* advance("2 seconds")
        // Freed once the engine has ended both sandboxes' processes (real processes: bounded real wait).
        let freed = yield* call(client, "DELETE", `/api/volumes/${id}`)
        for (let i = 0; i < 200 && freed.status === 409; i++) {
          yield* realSleep(50)
          freed = yield* call(client, "DELETE", `/api/volumes/${id}`)
        }
        assert.strictEqual(freed.status, 200, JSON.stringify(freed.body))
        const files = yield* Effect.promise(() => NodeFs.readdir(NodePath.join(dir, "volumes")))
        assert.notInclude(files, id)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  bwrapTest?.(
    "a volume does not lead outside itself: bad mount paths and subpaths, planted links, the data directory",
    () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        const id = yield* readyVolume(client, "v")
        const other = yield* readyVolume(client, "other")
        for (const volume of [
          { volumeId: id, mountPath: "relative" },
          { volumeId: id, mountPath: "/etc/x" },
          { volumeId: id, mountPath: "/home/daytona" },
          { volumeId: id, mountPath: "/mnt/../etc" },
          { volumeId: id, mountPath: "/mnt/v", subpath: "../other" },
          { volumeId: id, mountPath: "/mnt/v", subpath: `../../${other}` },
          { volumeId: "no-such-volume", mountPath: "/mnt/v" }
        ]) {
          const refused = yield* call(client, "POST", "/api/sandbox", { volumes: [volume] })
          assert.strictEqual(refused.status, 400, JSON.stringify(volume))
        }
        const nested = yield* call(client, "POST", "/api/sandbox", {
          volumes: [
            { volumeId: id, mountPath: "/mnt/v" },
            { volumeId: other, mountPath: "/mnt/v/inner" }
          ]
        })
        assert.strictEqual(nested.status, 400)

        // A sandbox plants links in the shared volume; another mounting them as a subpath does not
        // start on the link's target.
        const planter = yield* createStarted(client, { volumes: [{ volumeId: id, mountPath: "/mnt/v" }] })
        yield* sh(
          client,
          planter.id,
          `ln -s / /mnt/v/root && ln -s ${dir} /mnt/v/data && mkdir /mnt/v/ok && ln -s /etc /mnt/v/ok/etc`
        )
        for (const subpath of ["root", "data", "ok/etc"]) {
          const created = asSandbox(
            yield* call(client, "POST", "/api/sandbox", { volumes: [{ volumeId: id, mountPath: "/mnt/v", subpath }] })
          )
          yield* advance("1 second")
          const after = asSandbox(yield* call(client, "GET", `/api/sandbox/${created.id}`))
          assert.strictEqual(after.state, "error", subpath)
          assert.include(after.errorReason ?? "", "link")
        }
        // Through the toolbox, a link in the volume does not reach the host.
        const viaLink = yield* call(client, "GET", `/toolbox/${planter.id}/files?path=/mnt/v/data`)
        const names = JSON.stringify(viaLink.body)
        assert.notInclude(names, "daytona.db")
        assert.notInclude(names, "secrets.key")
        // The volume's siblings on the host (other volumes) are not visible.
        const siblings = yield* sh(client, planter.id, `ls /mnt/v/.. ; ls ${NodePath.join(dir, "volumes")} 2>&1`)
        assert.notInclude(siblings.result, other)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )
})
