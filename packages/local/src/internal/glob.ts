const special = /[.+^$()|\\/]/

/**
 * Compiles a glob with doublestar's semantics (`*` and `?` stay within a segment, `**` spans
 * segments, `[…]` classes, `{a,b}` alternatives) into an anchored regular expression; `undefined`
 * when the pattern is malformed.
 */
export const compileGlob = (pattern: string): RegExp | undefined => {
  let source = ""
  let braces = 0
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    const segmentStart = i === 0 || pattern[i - 1] === "/"
    switch (c) {
      case "*": {
        if (pattern[i + 1] === "*" && segmentStart) {
          if (pattern[i + 2] === "/") {
            source += "(?:[^/]*/)*"
            i += 2
            break
          }
          if (i + 2 === pattern.length) {
            source += ".*"
            i += 1
            break
          }
        }
        while (pattern[i + 1] === "*") i++
        source += "[^/]*"
        break
      }
      case "?":
        source += "[^/]"
        break
      case "[": {
        const end = pattern.indexOf("]", i + 2)
        if (end === -1) return undefined
        let body = pattern.slice(i + 1, end)
        const negate = body.startsWith("!") || body.startsWith("^")
        if (negate) body = body.slice(1)
        source += `[${negate ? "^" : ""}${body.replace(/\\/g, "\\\\")}]`
        i = end
        break
      }
      case "{":
        braces++
        source += "(?:"
        break
      case "}":
        if (braces === 0) return undefined
        braces--
        source += ")"
        break
      case ",":
        source += braces > 0 ? "|" : ","
        break
      case "\\": {
        const next = pattern[i + 1]
        if (next === undefined) return undefined
        source += special.test(next) || /[*?[\]{}]/.test(next) ? `\\${next}` : next
        i++
        break
      }
      default:
        source += special.test(c) ? `\\${c}` : c
    }
  }
  if (braces !== 0) return undefined
  try {
    return new RegExp(`^${source}$`)
  } catch {
    return undefined
  }
}
