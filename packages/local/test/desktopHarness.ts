import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeChildProcess from "node:child_process"
import type * as LocalConfig from "../src/LocalConfig.js"
import * as DesktopTools from "../src/internal/desktopTools.js"
import { hasBwrap } from "./attackHarness.js"
import { fastServer } from "./sdkHarness.js"

const found = DesktopTools.detect(process.env["PATH"] ?? "")

/** Whether this machine has the desktop's tools (Xvfb, xdotool, ffmpeg). */
export const hasDesktop = DesktopTools.installHint(found, "screenshots") === undefined

/** Whether it also has AT-SPI and a GTK application to read (`gir1.2-gtk-3.0`). */
export const hasAccessibility =
  DesktopTools.installHint(found, "accessibility") === undefined &&
  NodeChildProcess.spawnSync("/usr/bin/python3", ["-c", "import gi; gi.require_version('Gtk', '3.0')"], {
    timeout: 10_000
  }).status === 0

/** CI installs the desktop's packages (`.ci/run`), so there the pixel tests must run rather than be replaced. */
export const desktopRequired = process.env["CI"] === "true"

/** The screen the tests' desktops have: small, so that captures and recordings stay cheap. */
export const screen = { width: 400, height: 300 }

/**
 * A local server (isolated with bubblewrap where it works here), our SDK pointed at it, and one
 * started sandbox whose desktop is `screen` large.
 */
export const desktopSandbox = (extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const { dir, server } = yield* fastServer({ isolation: hasBwrap ? "bwrap" : "none", ...extra })
    const context = yield* Layer.build(
      Daytona.layer({ apiKey: server.apiKey, apiUrl: server.apiUrl, requestTimeout: "60 seconds" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
    const daytona = Context.get(context, Daytona.Daytona)
    const sandbox: Sandbox.Sandbox = yield* daytona
      .create({ envVars: { VNC_RESOLUTION: `${screen.width}x${screen.height}` } })
      .pipe(Effect.orDie)
    return { dir, server, daytona, sandbox }
  })

/**
 * A Tk window at a known place: an entry whose text becomes the window's title as it is typed (its
 * cursor does not blink, so two captures of the same area match), and
 * a red square that turns green, and names the point clicked in the title, when clicked.
 */
export const tkApp = `
wm geometry . 300x200+20+30
wm title . ready
entry .e -textvariable v -width 24 -insertofftime 0
place .e -x 10 -y 10
canvas .c -width 100 -height 100 -background "#ff0000" -highlightthickness 0 -borderwidth 0
place .c -x 150 -y 50
bind .c <Button-1> { .c configure -background "#00ff00"; wm title . "clicked %x %y" }
bind .e <KeyRelease> { wm title . "typed:$v" }
focus -force .e
`

/** Where the red square of {@link tkApp} is on the screen. */
export const square = { x: 170, y: 80, size: 100 }

/** A GTK window with a text entry and a button whose press puts the entry's text in the title. */
export const gtkApp = `
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gtk
window = Gtk.Window(title="a11y-app")
box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
entry = Gtk.Entry()
button = Gtk.Button(label="Press me")
button.connect("clicked", lambda _: window.set_title("pressed:" + entry.get_text()))
box.add(entry)
box.add(button)
window.add(box)
window.connect("destroy", Gtk.main_quit)
window.show_all()
Gtk.main()
`

/** Polls `check` (real time, every 100 ms, at most `millis`) until it yields a value. */
export const eventually = <A, E, R>(check: Effect.Effect<A | undefined, E, R>, millis = 10_000, what = "a condition") =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    while (true) {
      const value = yield* check
      if (value !== undefined) return value
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("100 millis")
    }
  })
