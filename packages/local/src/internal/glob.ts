/** Longer patterns are refused: a match costs the pattern's size for every character of a name. */
export const maxGlobLength = 1024

/** A compiled glob: whether a slash-separated relative path matches it. */
export interface Glob {
  readonly test: (path: string) => boolean
}

/** One state of the automaton: edges taken on a character that passes `accepts`, or on none. */
interface State {
  readonly steps: Array<{ readonly accepts: (char: number) => boolean; readonly to: State }>
  readonly free: Array<State>
  id: number
}

/** A piece of the automaton with one way in and one way out. */
interface Fragment {
  readonly start: State
  readonly end: State
}

const slash = 0x2f
const anyChar = () => true
const notSlash = (char: number) => char !== slash

const state = (): State => ({ steps: [], free: [], id: -1 })

const single = (accepts: (char: number) => boolean): Fragment => {
  const start = state()
  const end = state()
  start.steps.push({ accepts, to: end })
  return { start, end }
}

/** Any number of characters that pass `accepts`, none included. */
const repeated = (accepts: (char: number) => boolean): Fragment => {
  const start = state()
  const end = state()
  start.steps.push({ accepts, to: start })
  start.free.push(end)
  return { start, end }
}

/** `**` and a slash: zero or more whole segments, each ending in a slash, none included. */
const segments = (): Fragment => {
  const start = state()
  const inSegment = state()
  const end = state()
  start.free.push(end, inSegment)
  inSegment.steps.push({ accepts: notSlash, to: inSegment }, { accepts: (char) => char === slash, to: start })
  return { start, end }
}

const sequence = (parts: ReadonlyArray<Fragment>): Fragment => {
  const start = state()
  let end = start
  for (const part of parts) {
    end.free.push(part.start)
    end = part.end
  }
  return { start, end }
}

const alternatives = (choices: ReadonlyArray<Fragment>): Fragment => {
  const start = state()
  const end = state()
  for (const choice of choices) {
    start.free.push(choice.start)
    choice.end.free.push(end)
  }
  return { start, end }
}

const classOf = (body: string, negate: boolean): ((char: number) => boolean) => {
  const ranges: Array<readonly [number, number]> = []
  for (let i = 0; i < body.length; i++) {
    let low = body.charCodeAt(i)
    if (body[i] === "\\" && i + 1 < body.length) low = body.charCodeAt(++i)
    if (body[i + 1] === "-" && i + 2 < body.length) {
      let high = body.charCodeAt(i + 2)
      i += 2
      if (body[i] === "\\" && i + 1 < body.length) high = body.charCodeAt(++i)
      ranges.push([low, high])
    } else {
      ranges.push([low, low])
    }
  }
  const inClass = (char: number) => ranges.some(([low, high]) => char >= low && char <= high)
  return negate ? (char) => char !== slash && !inClass(char) : (char) => char !== slash && inClass(char)
}

/** Parses from `at` up to the end of the pattern or, inside braces, to the `,` or `}` that ends the choice. */
const parse = (
  pattern: string,
  at: number,
  inBraces: boolean
): { readonly fragment: Fragment; readonly next: number } => {
  const parts: Array<Fragment> = []
  let i = at
  for (; i < pattern.length; i++) {
    const c = pattern[i]!
    const segmentStart = i === 0 || pattern[i - 1] === "/"
    if (inBraces && (c === "," || c === "}")) break
    switch (c) {
      case "*": {
        if (pattern[i + 1] === "*" && segmentStart) {
          if (pattern[i + 2] === "/") {
            parts.push(segments())
            i += 2
            break
          }
          if (i + 2 === pattern.length) {
            parts.push(repeated(anyChar))
            i += 1
            break
          }
        }
        while (pattern[i + 1] === "*") i++
        parts.push(repeated(notSlash))
        break
      }
      case "?":
        parts.push(single(notSlash))
        break
      case "[": {
        const end = pattern.indexOf("]", i + 2)
        if (end === -1) throw new SyntaxError("unclosed class")
        let body = pattern.slice(i + 1, end)
        const negate = body.startsWith("!") || body.startsWith("^")
        if (negate) body = body.slice(1)
        parts.push(single(classOf(body, negate)))
        i = end
        break
      }
      case "{": {
        const choices: Array<Fragment> = []
        let next = i + 1
        for (;;) {
          const choice = parse(pattern, next, true)
          choices.push(choice.fragment)
          if (pattern[choice.next] === "}") {
            next = choice.next
            break
          }
          if (pattern[choice.next] !== ",") throw new SyntaxError("unclosed brace")
          next = choice.next + 1
        }
        parts.push(alternatives(choices))
        i = next
        break
      }
      case "}":
        throw new SyntaxError("unopened brace")
      case "\\": {
        if (i + 1 === pattern.length) throw new SyntaxError("dangling escape")
        const code = pattern.charCodeAt(++i)
        parts.push(single((char) => char === code))
        break
      }
      default: {
        const code = pattern.charCodeAt(i)
        parts.push(single((char) => char === code))
      }
    }
  }
  return { fragment: sequence(parts), next: i }
}

/** Every state reachable from `start`, numbered in order. */
const number = (start: State): Array<State> => {
  const states: Array<State> = []
  const pending = [start]
  while (pending.length > 0) {
    const current = pending.pop()!
    if (current.id !== -1) continue
    current.id = states.length
    states.push(current)
    for (const next of current.free) pending.push(next)
    for (const step of current.steps) pending.push(step.to)
  }
  return states
}

/**
 * Compiles a glob with doublestar's semantics (`*` and `?` stay within a segment, `**` spans
 * segments, `[…]` classes, `{a,b}` alternatives, `\` escapes); `undefined` when the pattern is
 * malformed or longer than {@link maxGlobLength}.
 *
 * The glob becomes an automaton that follows every way of matching at once, one character of the
 * path at a time, so a match costs at most the path's length times the pattern's size. A regular
 * expression would try those ways one after another: `*a*a*a*a*b` against a long name of `a`s takes
 * time growing with a power of its length, on the server's only thread.
 */
export const compileGlob = (pattern: string): Glob | undefined => {
  if (pattern.length > maxGlobLength) return undefined
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(pattern, 0, false)
  } catch {
    return undefined
  }
  if (parsed.next !== pattern.length) return undefined
  const { start, end } = parsed.fragment
  const states = number(start)
  const accepting = end.id
  // Marks of the current step, so that a state is added once per step.
  const seen = new Int32Array(states.length).fill(-1)
  return {
    test: (path) => {
      let stamp = 0
      let current: Array<State> = []
      const add = (into: Array<State>, from: State) => {
        const pending = [from]
        while (pending.length > 0) {
          const next = pending.pop()!
          if (seen[next.id] === stamp) continue
          seen[next.id] = stamp
          into.push(next)
          for (const free of next.free) pending.push(free)
        }
      }
      seen.fill(-1)
      add(current, start)
      for (let i = 0; i < path.length && current.length > 0; i++) {
        const char = path.charCodeAt(i)
        stamp++
        const next: Array<State> = []
        for (const at of current) {
          for (const step of at.steps) if (step.accepts(char)) add(next, step.to)
        }
        current = next
      }
      return current.some((at) => at.id === accepting)
    }
  }
}
