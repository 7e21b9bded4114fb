/**
 * The keyboard names of Daytona's computer-use API, turned into X keysyms for `xdotool`: canonical
 * names (`enter`, `escape`, `tab`, letters, digits, unshifted punctuation, `f1`…`f24`, numpad names
 * such as `num_plus`), the usual aliases (`Return`, `Esc`, `page-down`, `win`…) without regard to
 * case, and the modifiers `ctrl`, `alt`, `shift` and `cmd` (`control`, `option`, `meta`, `super`,
 * `win` are read as those). Anything else is refused with a message that says what to use.
 */

/** A failure to read a key or a chord; its message is the client's. */
export class KeyError extends Error {}

/** A key: its keysym and, for a modifier key, the modifier it belongs to. */
interface Key {
  readonly keysym: string
  readonly modifier?: Modifier | undefined
}

/** The modifiers a chord may hold. */
export const modifiers = ["ctrl", "alt", "shift", "cmd"] as const

type Modifier = (typeof modifiers)[number]

const modifierKeysym: Record<Modifier, string> = { ctrl: "ctrl", alt: "alt", shift: "shift", cmd: "super" }

const modifierAliases: Record<string, Modifier> = {
  ctrl: "ctrl",
  control: "ctrl",
  alt: "alt",
  option: "alt",
  shift: "shift",
  cmd: "cmd",
  command: "cmd",
  meta: "cmd",
  super: "cmd",
  win: "cmd",
  windows: "cmd"
}

const named: Record<string, Key> = {
  enter: { keysym: "Return" },
  escape: { keysym: "Escape" },
  tab: { keysym: "Tab" },
  space: { keysym: "space" },
  backspace: { keysym: "BackSpace" },
  delete: { keysym: "Delete" },
  insert: { keysym: "Insert" },
  home: { keysym: "Home" },
  end: { keysym: "End" },
  pageup: { keysym: "Prior" },
  pagedown: { keysym: "Next" },
  up: { keysym: "Up" },
  down: { keysym: "Down" },
  left: { keysym: "Left" },
  right: { keysym: "Right" },
  capslock: { keysym: "Caps_Lock" },
  menu: { keysym: "Menu" },
  num_lock: { keysym: "Num_Lock" },
  num_plus: { keysym: "KP_Add" },
  num_minus: { keysym: "KP_Subtract" },
  num_asterisk: { keysym: "KP_Multiply" },
  num_slash: { keysym: "KP_Divide" },
  num_decimal: { keysym: "KP_Decimal" },
  num_enter: { keysym: "KP_Enter" },
  num_equal: { keysym: "KP_Equal" },
  ctrl: { keysym: "Control_L", modifier: "ctrl" },
  lctrl: { keysym: "Control_L", modifier: "ctrl" },
  rctrl: { keysym: "Control_R", modifier: "ctrl" },
  alt: { keysym: "Alt_L", modifier: "alt" },
  lalt: { keysym: "Alt_L", modifier: "alt" },
  ralt: { keysym: "Alt_R", modifier: "alt" },
  shift: { keysym: "Shift_L", modifier: "shift" },
  lshift: { keysym: "Shift_L", modifier: "shift" },
  rshift: { keysym: "Shift_R", modifier: "shift" },
  cmd: { keysym: "Super_L", modifier: "cmd" },
  lcmd: { keysym: "Super_L", modifier: "cmd" },
  rcmd: { keysym: "Super_R", modifier: "cmd" }
}
for (let n = 1; n <= 24; n++) named[`f${n}`] = { keysym: `F${n}` }
for (let n = 0; n <= 9; n++) named[`num${n}`] = { keysym: `KP_${n}` }

const aliases: Record<string, string> = {
  return: "enter",
  esc: "escape",
  del: "delete",
  spacebar: "space",
  page_up: "pageup",
  page_down: "pagedown",
  control: "ctrl",
  option: "alt",
  command: "cmd",
  meta: "cmd",
  super: "cmd",
  win: "cmd",
  windows: "cmd",
  left_ctrl: "lctrl",
  left_control: "lctrl",
  right_ctrl: "rctrl",
  right_control: "rctrl",
  left_alt: "lalt",
  right_alt: "ralt",
  left_shift: "lshift",
  right_shift: "rshift",
  left_cmd: "lcmd",
  left_command: "lcmd",
  right_cmd: "rcmd",
  right_command: "rcmd"
}

const punctuation: Record<string, string> = {
  "'": "apostrophe",
  ",": "comma",
  "-": "minus",
  ".": "period",
  "/": "slash",
  ";": "semicolon",
  "=": "equal",
  "[": "bracketleft",
  "\\": "backslash",
  "]": "bracketright",
  "`": "grave"
}

/** The unshifted key that types each shifted symbol (US layout), to say what to press instead. */
const shifted: Record<string, string> = {
  "!": "1",
  "@": "2",
  "#": "3",
  $: "4",
  "%": "5",
  "^": "6",
  "&": "7",
  "*": "8",
  "(": "9",
  ")": "0",
  _: "-",
  "+": "=",
  "{": "[",
  "}": "]",
  "|": "\\",
  ":": ";",
  '"': "'",
  "<": ",",
  ">": ".",
  "?": "/",
  "~": "`"
}

const numpadShorthand: Record<string, string> = {
  "num+": "num_plus",
  "num-": "num_minus",
  "num*": "num_asterisk",
  "num/": "num_slash",
  "num.": "num_decimal"
}

const tokenOf = (raw: string) => raw.toLowerCase().replaceAll("-", "_")

/** Reads one key name. */
export const keyOf = (raw: string): Key => {
  if (raw === "") throw new KeyError('unsupported key "": empty key name')
  const shorthand = numpadShorthand[raw.toLowerCase()]
  if (shorthand !== undefined) throw new KeyError(`unsupported key ${JSON.stringify(raw)}; use "${shorthand}"`)
  const chars = [...raw]
  if (chars.length === 1) {
    const c = chars[0]!
    if (c === " ") throw new KeyError('unsupported key " "; use press("space") or type(" ")')
    if (c === "\t") throw new KeyError('unsupported key "\\t"; use press("tab")')
    if (c === "\n" || c === "\r") throw new KeyError(`unsupported key ${JSON.stringify(c)}; use press("enter")`)
    if (/[a-z]/i.test(c)) return { keysym: c.toLowerCase() }
    if (/[0-9]/.test(c)) return { keysym: c }
    const symbol = punctuation[c]
    if (symbol !== undefined) return { keysym: symbol }
    const base = shifted[c]
    if (base !== undefined)
      throw new KeyError(
        `unsupported key ${JSON.stringify(c)}; use press(${JSON.stringify(base)}, ["shift"]) for the shifted key, or type(${JSON.stringify(c)}) for text`
      )
    throw new KeyError(`unsupported key ${JSON.stringify(c)}; use type(${JSON.stringify(c)}) for text input`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(raw) || /[^\x20-\x7e]/.test(raw))
    throw new KeyError(
      `unsupported key ${JSON.stringify(raw)}; use type() for text input or a key name such as "enter"`
    )
  let token = tokenOf(raw)
  token = aliases[token] ?? token
  const key = named[token]
  if (key === undefined)
    throw new KeyError(
      `unsupported key ${JSON.stringify(raw)}; key names are letters, digits, unshifted punctuation, enter, escape, tab, space, backspace, delete, insert, home, end, pageup, pagedown, up, down, left, right, capslock, menu, f1-f24, num0-num9, num_plus, num_minus, num_asterisk, num_slash, num_decimal, num_enter, num_equal, num_lock and the modifier keys`
    )
  return key
}

const modifierOf = (raw: string): Modifier => {
  const modifier = modifierAliases[tokenOf(raw.trim())]
  if (modifier === undefined)
    throw new KeyError(`unsupported modifier ${JSON.stringify(raw)}; the modifiers are ${modifiers.join(", ")}`)
  return modifier
}

/** A chord as `xdotool key` takes it: modifiers and the key, joined by `+`. */
const chord = (key: Key, held: ReadonlyArray<Modifier>, context: string): string => {
  const seen = new Set<Modifier>()
  for (const modifier of held) {
    if (seen.has(modifier)) throw new KeyError(`duplicate modifier ${JSON.stringify(modifier)} in ${context}`)
    seen.add(modifier)
  }
  if (key.modifier !== undefined && seen.has(key.modifier))
    throw new KeyError(`the key is also one of its modifiers (${key.modifier}) in ${context}`)
  return [...held.map((modifier) => modifierKeysym[modifier]), key.keysym].join("+")
}

/** The chord of `press(key, modifiers)`. */
export const pressChord = (key: string, held: ReadonlyArray<string>): string =>
  chord(keyOf(key), held.map(modifierOf), `press(${JSON.stringify(key)}, ${JSON.stringify(held)})`)

/** The chord of `hotkey("ctrl+shift+t")`: modifiers, then exactly one key last. */
export const hotkeyChord = (keys: string): string => {
  const context = `hotkey(${JSON.stringify(keys)})`
  const parts = keys.split("+").map((part) => part.trim())
  if (parts.some((part) => part === "")) throw new KeyError(`invalid ${context}: an empty key name`)
  const last = parts[parts.length - 1]!
  const held = parts.slice(0, -1).map((part) => {
    try {
      return modifierOf(part)
    } catch {
      throw new KeyError(
        `invalid ${context}: ${JSON.stringify(part)} is not a modifier (${modifiers.join(", ")}); a chord holds one key, last`
      )
    }
  })
  try {
    return chord(keyOf(last), held, context)
  } catch (error) {
    throw error instanceof KeyError && !error.message.startsWith("invalid")
      ? new KeyError(`invalid ${context}: ${error.message}`)
      : error
  }
}

/**
 * How `type` sends a text: runs of characters typed as they are and line breaks pressed as
 * Enter. A tab or another control character is refused (press `tab` for Tab).
 */
export const typingSteps = (
  text: string
): ReadonlyArray<{ readonly _tag: "Text"; readonly text: string } | { readonly _tag: "Enter" }> => {
  const steps: Array<{ readonly _tag: "Text"; readonly text: string } | { readonly _tag: "Enter" }> = []
  let run = ""
  for (const c of text.replaceAll("\r\n", "\n")) {
    if (c === "\n" || c === "\r") {
      if (run !== "") steps.push({ _tag: "Text", text: run })
      run = ""
      steps.push({ _tag: "Enter" })
      continue
    }
    if (c === "\t") throw new KeyError('type does not turn "\\t" into Tab; press("tab") presses it')
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(c))
      throw new KeyError(
        `type cannot send the control character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`
      )
    run += c
  }
  if (run !== "") steps.push({ _tag: "Text", text: run })
  return steps
}
