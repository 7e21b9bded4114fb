import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { attackServer, bwrapRequired, hasBwrap, sh, upload } from "./attackHarness.js"
import { settleTo, snapshotSettleTo, snapshotState } from "./lifecycleHarness.js"
import { asApiError, asSandbox, call, type Client, clientLayer, createStarted, serve, tempDir } from "./utils.js"

const read = (client: Client, id: string, path: string) =>
  Effect.map(sh(client, id, `cat ${path} 2>&1; echo " exit=$?"`), (answer) => answer.result.replace(/\s+/g, " ").trim())

/** Every regular file under a host directory, with its content (links are not followed). */
const hostFiles = (root: string): Effect.Effect<ReadonlyArray<{ path: string; content: string }>> =>
  Effect.promise(async () => {
    const found: Array<{ path: string; content: string }> = []
    const walk = async (dir: string) => {
      for (const entry of await NodeFs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = NodePath.join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.isFile()) found.push({ path, content: await NodeFs.readFile(path, "utf8").catch(() => "") })
      }
    }
    await walk(root)
    return found
  })

/** Creates a sandbox from `snapshot` and waits until it has started. */
const createFrom = (client: Client, snapshot: string) =>
  Effect.gen(function* () {
    const created = yield* call(client, "POST", "/api/sandbox", { snapshot })
    assert.strictEqual(created.status, 200, JSON.stringify(created.body))
    const id = asSandbox(created).id
    assert.strictEqual(yield* settleTo(client, id, "started"), "started")
    return id
  })

const snapshotOf = (client: Client, id: string, name: string) =>
  Effect.gen(function* () {
    const answer = yield* call(client, "POST", `/api/sandbox/${id}/snapshot`, { name })
    assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
    assert.strictEqual(asSandbox(answer).state, "snapshotting")
    assert.strictEqual(yield* snapshotSettleTo(client, name, "active"), "active")
    return answer
  })

const forkOf = (client: Client, id: string, name?: string) =>
  Effect.gen(function* () {
    const answer = yield* call(client, "POST", `/api/sandbox/${id}/fork`, name === undefined ? {} : { name })
    assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
    const child = asSandbox(answer).id
    assert.strictEqual(yield* settleTo(client, child, "started"), "started")
    return child
  })

describe("snapshots of sandboxes and forks", () => {
  it.scoped("a sandbox created from a snapshot of another sees the files written before the snapshot", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const source = yield* createStarted(client)
      yield* sh(
        client,
        source.id,
        `mkdir -p "$HOME/dir/sub" && echo before > "$HOME/dir/sub/file" && chmod 640 "$HOME/dir/sub/file"`
      )
      yield* snapshotOf(client, source.id, "captured:1")
      assert.strictEqual(yield* settleTo(client, source.id, "started"), "started")
      yield* sh(client, source.id, `echo after > "$HOME/dir/sub/file" && echo later > "$HOME/later"`)

      const snapshot = yield* call(client, "GET", "/api/snapshots/captured:1")
      const body = snapshot.body as { sourceSandboxId?: string; size?: number | null }
      assert.strictEqual(body.sourceSandboxId, source.id)

      const copy = yield* createFrom(client, "captured:1")
      assert.strictEqual(yield* read(client, copy, `"$HOME/dir/sub/file"`), "before exit=0")
      assert.include(yield* read(client, copy, `"$HOME/later"`), "exit=1")
      assert.strictEqual((yield* sh(client, copy, `stat -c %a "$HOME/dir/sub/file"`)).result.trim(), "640")

      const taken = yield* call(client, "POST", `/api/sandbox/${source.id}/snapshot`, { name: "captured:1" })
      assert.strictEqual(taken.status, 409)
      const bad = yield* call(client, "POST", `/api/sandbox/${source.id}/snapshot`, { name: "bad name/../x" })
      assert.strictEqual(bad.status, 400)
      const missing = yield* call(client, "POST", `/api/sandbox/${source.id}/snapshot`, {})
      assert.strictEqual(missing.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a fork sees its parent's files, then diverges; ancestry routes follow the chain", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const parent = yield* createStarted(client, { name: "parent" })
      yield* sh(client, parent.id, `echo shared > "$HOME/shared"`)
      const child = yield* forkOf(client, parent.id, "child")
      assert.strictEqual(yield* settleTo(client, parent.id, "started"), "started")
      assert.strictEqual(yield* read(client, child, `"$HOME/shared"`), "shared exit=0")

      yield* sh(client, child, `echo child > "$HOME/shared"`)
      yield* sh(client, parent.id, `echo parent > "$HOME/own"`)
      assert.strictEqual(yield* read(client, parent.id, `"$HOME/shared"`), "shared exit=0")
      assert.include(yield* read(client, child, `"$HOME/own"`), "exit=1")

      const grandchild = yield* forkOf(client, child)
      const ancestors = yield* call(client, "GET", `/api/sandbox/${grandchild}/ancestors`)
      assert.deepStrictEqual(
        (ancestors.body as Array<{ id: string }>).map((s) => s.id),
        [parent.id, child]
      )
      const parentOf = yield* call(client, "GET", `/api/sandbox/${grandchild}/parent`)
      assert.strictEqual(asSandbox(parentOf).id, child)
      const forks = yield* call(client, "GET", `/api/sandbox/${parent.id}/forks`)
      assert.deepStrictEqual(
        (forks.body as Array<{ id: string }>).map((s) => s.id),
        [child]
      )
      const orphan = yield* call(client, "GET", `/api/sandbox/${parent.id}/parent`)
      assert.strictEqual(orphan.status, 404)

      const refused = yield* call(client, "DELETE", `/api/sandbox/${parent.id}`)
      assert.strictEqual(refused.status, 400)
      assert.include(asApiError(refused).message, "fork")
      const taken = yield* call(client, "POST", `/api/sandbox/${parent.id}/fork`, { name: "child" })
      assert.strictEqual(taken.status, 409)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a fork and a sandbox made from a snapshot keep a sparse file sparse, with its bytes where they were", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const parent = yield* createStarted(client)
      // 320 MiB long, holding 4 bytes at 256 MiB and a page of ones at the start
      const made = yield* sh(
        client,
        parent.id,
        `cd "$HOME" && truncate -s 320M sparse && printf abcd | dd of=sparse bs=1 seek=268435456 conv=notrunc 2>/dev/null && head -c 4096 /dev/zero | tr '\\0' '\\1' | dd of=sparse conv=notrunc 2>/dev/null && stat -c '%s %b %B' sparse`
      )
      const [size, blocks, blockSize] = made.result.trim().split(" ").map(Number)
      assert.strictEqual(size, 320 * 1024 * 1024)
      assert.isBelow(blocks! * blockSize!, 1024 * 1024, "the original is sparse")
      const check = (id: string) =>
        Effect.gen(function* () {
          const seen = yield* sh(
            client,
            id,
            `cd "$HOME" && stat -c '%s %b %B' sparse && dd if=sparse bs=1 skip=268435456 count=4 2>/dev/null && echo && head -c 4096 sparse | tr -d '\\1' | wc -c && cmp -s sparse /dev/zero; echo "cmp=$?"`
          )
          const [line, bytes, others, compared] = seen.result.trim().split("\n")
          const [copySize, copyBlocks, copyBlockSize] = line!.split(" ").map(Number)
          assert.strictEqual(copySize, 320 * 1024 * 1024)
          assert.isBelow(copyBlocks! * copyBlockSize!, 1024 * 1024, `the copy in ${id} holds no more than the original`)
          assert.strictEqual(bytes, "abcd")
          assert.strictEqual(others!.trim(), "0", "the first page is all ones")
          assert.strictEqual(compared, "cmp=1")
        })
      yield* check(yield* forkOf(client, parent.id))
      assert.strictEqual(yield* settleTo(client, parent.id, "started"), "started")
      yield* snapshotOf(client, parent.id, "sparse:1")
      yield* check(yield* createFrom(client, "sparse:1"))
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a fork keeps file names that are not UTF-8, beside the name that looks the same decoded", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const parent = yield* createStarted(client)
      const names = `import os; os.chdir(os.environ["HOME"]); print(sorted([(n.hex(), open(n, "rb").read().decode()) for n in os.listdir(b".") if n.startswith(b"bad")]))`
      const made = yield* sh(
        client,
        parent.id,
        `cd "$HOME" && printf latin > "$(printf 'bad\\377')" && printf replaced > "$(printf 'bad\\357\\277\\275')" && python3 -c '${names}'`
      )
      const expected = "[('626164efbfbd', 'replaced'), ('626164ff', 'latin')]\n"
      assert.strictEqual(made.result, expected)
      const child = yield* forkOf(client, parent.id)
      assert.strictEqual((yield* sh(client, child, `python3 -c '${names}'`)).result, expected)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped(
    "a fork of sparse files whose sizes add up to more than twice what it may hold is refused, saying why",
    () =>
      Effect.gen(function* () {
        const { client } = yield* serve(yield* tempDir)
        // 1 GiB of disk: a copy holds at most 1 GiB and reads at most 2 GiB of files with holes.
        const created = asSandbox(
          yield* call(client, "POST", "/api/sandbox", { buildInfo: { dockerfileContent: "FROM scratch\n" }, disk: 1 })
        )
        assert.strictEqual(yield* settleTo(client, created.id, "started"), "started")
        const parent = { id: created.id }
        const made = yield* sh(
          client,
          parent.id,
          `cd "$HOME" && for i in 1 2 3; do truncate -s 900M hole$i; done; du -k . | tail -1`
        )
        assert.isBelow(Number(made.result.split(/\s/)[0]), 1024, "the files hold nothing")
        const answer = yield* call(client, "POST", `/api/sandbox/${parent.id}/fork`, {})
        const outcome =
          answer.status === 200
            ? yield* Effect.gen(function* () {
                const child = asSandbox(answer).id
                assert.strictEqual(yield* settleTo(client, child, "error", 400), "error")
                return asSandbox(yield* call(client, "GET", `/api/sandbox/${child}`)).errorReason ?? ""
              })
            : asApiError(answer).message
        assert.include(outcome, "files with holes add up to more than")
      }).pipe(Effect.provide(clientLayer))
  )

  if (hasBwrap || bwrapRequired)
    it.scoped("attack: a fork or a snapshot copies links as links, never what they point to on the host", () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        const victim = yield* createStarted(client)
        const secret = `victim-secret-${Math.random().toString(36).slice(2)}`
        const uploaded = yield* upload(client, victim.id, "secret", secret)
        assert.strictEqual(uploaded.status, 200)
        const victimHome = NodePath.join(dir, "sandboxes", victim.id, "home")

        const attacker = yield* createStarted(client)
        // Links to the victim's files and to the host as the host names them, a FIFO that would
        // block a naive copy, and a directory link.
        const planted = yield* sh(
          client,
          attacker.id,
          [
            `ln -s ${victimHome}/secret "$HOME/file-link"`,
            `ln -s ${victimHome} "$HOME/dir-link"`,
            `ln -s /proc/1/root${victimHome}/secret "$HOME/proc-link"`,
            `ln -s ${dir} "$HOME/data-link"`,
            `mkfifo "$HOME/fifo"`,
            `echo mine > "$HOME/mine"`
          ].join(" && ")
        )
        assert.strictEqual(planted.exitCode, 0, planted.result)

        const child = yield* forkOf(client, attacker.id)
        yield* snapshotOf(client, attacker.id, "attacker:1")
        const restored = yield* createFrom(client, "attacker:1")

        for (const id of [child, restored]) {
          assert.strictEqual(yield* read(client, id, `"$HOME/mine"`), "mine exit=0")
          for (const link of ["file-link", "dir-link/secret", "proc-link"]) {
            const seen = yield* read(client, id, `"$HOME/${link}"`)
            assert.notInclude(seen, secret, link)
            const downloaded = yield* call(client, "GET", `/toolbox/${id}/files/download?path=${link}`)
            assert.notInclude(JSON.stringify(downloaded.body ?? ""), secret, link)
          }
          const home = NodePath.join(dir, "sandboxes", id, "home")
          for (const link of ["file-link", "dir-link", "proc-link", "data-link"])
            assert.isTrue((yield* Effect.promise(() => NodeFs.lstat(NodePath.join(home, link)))).isSymbolicLink(), link)
          for (const file of yield* hostFiles(NodePath.join(dir, "sandboxes", id)))
            assert.notInclude(file.content, secret, file.path)
        }
        for (const file of yield* hostFiles(NodePath.join(dir, "images")))
          assert.notInclude(file.content, secret, file.path)
        assert.strictEqual((yield* snapshotState(client, "attacker:1")).state, "active")
      }).pipe(Effect.provide(clientLayer))
    )
})
