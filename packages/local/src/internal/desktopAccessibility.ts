import type * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import type { AccessibilityNodeEncoded } from "@effect-daytona/sdk/ComputerUseDto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { badRequest, DaemonError, internal, notFound } from "./daemonError.js"
import { desktopGone, runningDesktop, stoppedMeanwhile } from "./desktop.js"
import type { DesktopState } from "./desktopState.js"
import type { SandboxRecord } from "./record.js"
import type { EndpointHandler } from "./toolboxRoute.js"
import { runInSandbox } from "./toolboxRoute.js"

/** The Python that ships with Debian, whose PyGObject reads AT-SPI (not a pyenv or venv one). */
export const debianPython = "/usr/bin/python3"

/**
 * The AT-SPI client, run inside the sandbox with Debian's Python and the Atspi GObject bindings.
 * It reads one JSON request from its argument and prints one JSON answer; a failure is printed as
 * `{"error": kind, "message": …}` with exit code 3 (`unavailable`, `not_found`, `bad_request`).
 * Node ids are `bus-name:object-path`, as Daytona's daemon names them.
 */
const client = String.raw`
import json, re, sys, warnings
warnings.filterwarnings("ignore")
def fail(kind, message):
    print(json.dumps({"error": kind, "message": message}))
    sys.exit(3)
try:
    import gi
    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi
except Exception as e:
    fail("unavailable", "accessibility bus not reachable: the AT-SPI bindings cannot be loaded (%s)" % e)
req = json.loads(sys.argv[1])
BUDGET = 20000
visited = [0]
def ident(n):
    try:
        return "%s:%s" % (n.app.bus_name, n.path)
    except Exception:
        return None
def ifaces(n):
    try:
        return set(n.get_interfaces())
    except Exception:
        return set()
def states(n):
    try:
        return sorted(Atspi.StateType(s).value_nick for s in n.get_state_set().get_states())
    except Exception:
        return []
def describe(n, with_children=False, depth=-1):
    out = {"id": ident(n)}
    for key, get in (("role", n.get_role_name), ("name", n.get_name), ("description", n.get_description)):
        try:
            value = get()
            if value:
                out[key] = value
        except Exception:
            pass
    out["states"] = states(n)
    have = ifaces(n)
    if "Action" in have:
        try:
            out["actions"] = [n.get_action_name(i) for i in range(n.get_n_actions())]
        except Exception:
            pass
    if "Component" in have:
        try:
            e = n.get_extents(Atspi.CoordType.SCREEN)
            out["bounds"] = {"x": e.x, "y": e.y, "width": e.width, "height": e.height}
        except Exception:
            pass
    if with_children and depth != 0:
        kids = []
        for c in children(n):
            if visited[0] >= BUDGET:
                truncated[0] = True
                break
            visited[0] += 1
            kids.append(describe(c, True, depth - 1 if depth > 0 else depth))
        out["children"] = kids
    return out
def children(n):
    try:
        count = n.get_child_count()
    except Exception:
        return []
    out = []
    for i in range(count):
        try:
            c = n.get_child_at_index(i)
        except Exception:
            c = None
        if c is not None:
            out.append(c)
    return out
truncated = [False]
def walk(n):
    stack = [n]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > BUDGET:
            truncated[0] = True
            return
        yield node
        stack.extend(reversed(children(node)))
try:
    desktop = Atspi.get_desktop(0)
    apps = children(desktop)
except Exception as e:
    fail("unavailable", "accessibility bus not reachable: %s" % e)
def pid_of(app):
    try:
        return app.get_process_id()
    except Exception:
        return None
def root_for(scope, pid):
    scope = (scope or "focused").strip().lower()
    if scope == "all":
        return desktop
    if scope == "pid":
        if not pid:
            fail("bad_request", "invalid accessibility request: scope pid needs a pid")
        for app in apps:
            if pid_of(app) == pid:
                return app
        fail("not_found", "no accessible root for focused window: no application with pid %d" % pid)
    if scope != "focused":
        fail("bad_request", "invalid accessibility scope: got %r, expected focused|pid|all" % scope)
    for wanted in ("active", "focused"):
        for app in apps:
            for node in walk(app):
                if wanted in states(node):
                    return app
    if len(apps) == 1:
        return apps[0]
    fail("not_found", "no accessible root for focused window")
def find_node(node_id):
    for app in apps:
        if not node_id.startswith(str(app.app.bus_name) + ":"):
            continue
        for node in walk(app):
            if ident(node) == node_id:
                return node
    fail("not_found", "accessibility node not found: %s" % node_id)
op = req["op"]
if op == "tree":
    root = root_for(req.get("scope"), req.get("pid"))
    print(json.dumps({"root": describe(root, True, req.get("maxDepth", -1)), "truncated": truncated[0]}))
elif op == "find":
    root = root_for(req.get("scope") or "all", req.get("pid"))
    mode = req.get("nameMatch") or "substring"
    if mode not in ("exact", "substring", "regex"):
        fail("bad_request", "invalid accessibility request: unknown nameMatch mode %r, want exact|substring|regex" % mode)
    name = req.get("name") or ""
    pattern = None
    if name and mode == "regex":
        try:
            pattern = re.compile(name)
        except re.error as e:
            fail("bad_request", "invalid accessibility request: invalid regex for name filter: %s" % e)
    role = (req.get("role") or "").lower()
    wanted = req.get("states") or []
    limit = req.get("limit") or 500
    limit = 500 if limit <= 0 else min(limit, 5000)
    matches = []
    for node in walk(root):
        try:
            node_role = (node.get_role_name() or "").lower()
            node_name = node.get_name() or ""
        except Exception:
            continue
        if role and node_role != role:
            continue
        if name:
            if mode == "exact" and node_name != name:
                continue
            if mode == "substring" and name not in node_name:
                continue
            if mode == "regex" and not pattern.search(node_name):
                continue
        if wanted:
            have = states(node)
            if not all(s in have for s in wanted):
                continue
        if len(matches) >= limit:
            truncated[0] = True
            break
        matches.append(describe(node))
    print(json.dumps({"matches": matches, "truncated": truncated[0]}))
elif op == "focus":
    node = find_node(req["id"])
    if "Component" not in ifaces(node):
        fail("bad_request", "action not supported by node: it cannot take the focus")
    if not node.grab_focus():
        fail("bad_request", "action not supported by node: it refused the focus")
    print("{}")
elif op == "invoke":
    node = find_node(req["id"])
    if "Action" not in ifaces(node) or node.get_n_actions() == 0:
        fail("bad_request", "action not supported by node: it has no actions")
    names = [node.get_action_name(i) for i in range(node.get_n_actions())]
    action = req.get("action")
    index = 0 if not action else (names.index(action) if action in names else -1)
    if index < 0:
        fail("bad_request", "action not supported by node: %r (it has %s)" % (action, ", ".join(names)))
    node.do_action(index)
    print("{}")
elif op == "value":
    node = find_node(req["id"])
    value = req.get("value") or ""
    have = ifaces(node)
    if "EditableText" in have:
        node.set_text_contents(value)
    elif "Value" in have:
        try:
            number = float(value)
        except ValueError:
            fail("bad_request", "action not supported by node: its value is a number, got %r" % value)
        node.set_current_value(number)
    else:
        fail("bad_request", "action not supported by node: it has no text or value to set")
    print("{}")
`

/** How each failure kind of the client is answered. */
const failureOf = (kind: string, message: string): DaemonError => {
  switch (kind) {
    case "unavailable":
      return new DaemonError({ status: 400, code: "A11Y_UNAVAILABLE", message })
    case "not_found":
      return notFound(message)
    case "bad_request":
      return badRequest(message)
    default:
      return internal(message)
  }
}

/** Whether the desktop's accessibility bus runs (it may be stopped or restarted while a request runs). */
const busRunning = (state: DesktopState) =>
  state.busAddress !== undefined &&
  state.processes.get("dbus")?.running === true &&
  state.processes.get("atspi")?.running === true

/** 400 `A11Y_UNAVAILABLE`: the accessibility bus is not running. */
const busGone = () =>
  new DaemonError({
    status: 400,
    code: "A11Y_UNAVAILABLE",
    message: "accessibility bus not reachable: the desktop's accessibility bus is not running (restart computer use)"
  })

/** Runs one request of the AT-SPI client inside the sandbox, on the desktop's session bus. */
const ask = (sandbox: SandboxRecord, state: DesktopState, request: Record<string, unknown>) =>
  Effect.gen(function* () {
    const busAddress = state.busAddress
    const generation = state.generation
    if (busAddress === undefined || !busRunning(state)) return yield* busGone()
    const result = yield* runInSandbox(sandbox, [debianPython, "-c", client, JSON.stringify(request)], {
      env: { DISPLAY: state.display ?? ":0", DBUS_SESSION_BUS_ADDRESS: busAddress, NO_AT_BRIDGE: "1" },
      timeout: Duration.seconds(30)
    })
    const lines = result.output.trim().split("\n")
    const last = lines[lines.length - 1] ?? ""
    let answer: unknown
    try {
      answer = JSON.parse(last)
    } catch {
      if (yield* desktopGone(state, generation)) return yield* stoppedMeanwhile(sandbox.id)
      if (!busRunning(state)) return yield* busGone()
      return yield* internal(
        `the accessibility client failed (exit code ${result.exitCode}): ${result.output.trim().slice(-1000)}`
      )
    }
    if (typeof answer === "object" && answer !== null && "error" in answer) {
      const failure = answer as { readonly error: unknown; readonly message?: unknown }
      return yield* failureOf(String(failure.error), String(failure.message ?? "accessibility request failed"))
    }
    if (result.exitCode !== 0) {
      if (yield* desktopGone(state, generation)) return yield* stoppedMeanwhile(sandbox.id)
      if (!busRunning(state)) return yield* busGone()
      return yield* internal(`the accessibility client failed (exit code ${result.exitCode})`)
    }
    return answer
  })

const desktop = (sandbox: SandboxRecord) => Effect.map(runningDesktop(sandbox, "accessibility"), ({ state }) => state)

/** `GET /computeruse/a11y/tree`. */
export const tree: EndpointHandler<typeof ToolboxApi.computerUseAccessibilityTree> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const state = yield* desktop(sandbox)
    const answer = yield* ask(sandbox, state, {
      op: "tree",
      scope: query.scope,
      pid: query.pid,
      maxDepth: query.maxDepth ?? -1
    })
    return answer as { readonly root?: AccessibilityNodeEncoded; readonly truncated?: boolean }
  })

/** `POST /computeruse/a11y/find`. */
export const find: EndpointHandler<typeof ToolboxApi.computerUseFindAccessibilityNodes> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const state = yield* desktop(sandbox)
    const answer = yield* ask(sandbox, state, { op: "find", ...payload })
    return answer as { readonly matches?: ReadonlyArray<AccessibilityNodeEncoded>; readonly truncated?: boolean }
  })

/** `POST /computeruse/a11y/node/focus`. */
export const focus: EndpointHandler<typeof ToolboxApi.computerUseFocusAccessibilityNode> = (sandbox, { payload }) =>
  Effect.flatMap(desktop(sandbox), (state) => ask(sandbox, state, { op: "focus", id: payload.id }))

/** `POST /computeruse/a11y/node/invoke`. */
export const invoke: EndpointHandler<typeof ToolboxApi.computerUseInvokeAccessibilityNode> = (sandbox, { payload }) =>
  Effect.flatMap(desktop(sandbox), (state) =>
    ask(sandbox, state, { op: "invoke", id: payload.id, action: payload.action })
  )

/** `POST /computeruse/a11y/node/value`. */
export const setValue: EndpointHandler<typeof ToolboxApi.computerUseSetAccessibilityNodeValue> = (
  sandbox,
  { payload }
) =>
  Effect.flatMap(desktop(sandbox), (state) =>
    ask(sandbox, state, { op: "value", id: payload.id, value: payload.value })
  )
