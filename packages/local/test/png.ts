import * as NodeZlib from "node:zlib"

/** A decoded 8-bit RGB image: `pixels` holds 3 bytes per pixel, row after row. */
export interface Rgb {
  readonly width: number
  readonly height: number
  readonly pixels: Uint8Array
}

const paeth = (a: number, b: number, c: number) => {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/** Decodes a non-interlaced 8-bit PNG in RGB or RGBA (what the screenshots are) into RGB pixels. */
export const decodePng = (png: Uint8Array): Rgb => {
  const data = Buffer.from(png)
  if (data.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG")
  let at = 8
  let width = 0
  let height = 0
  let channels = 0
  const idat: Array<Buffer> = []
  while (at < data.length) {
    const length = data.readUInt32BE(at)
    const type = data.toString("ascii", at + 4, at + 8)
    const body = data.subarray(at + 8, at + 8 + length)
    if (type === "IHDR") {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const depth = body[8]
      const colorType = body[9]
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || body[12] !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, color type ${colorType}, interlace ${body[12]}`)
      channels = colorType === 2 ? 3 : 4
    }
    if (type === "IDAT") idat.push(body)
    if (type === "IEND") break
    at += 12 + length
  }
  const raw = NodeZlib.inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const rows = Buffer.alloc(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? rows[y * stride + x - channels]! : 0
      const up = y > 0 ? rows[(y - 1) * stride + x]! : 0
      const upLeft = y > 0 && x >= channels ? rows[(y - 1) * stride + x - channels]! : 0
      const value = line[x]!
      const predicted =
        filter === 0
          ? 0
          : filter === 1
            ? left
            : filter === 2
              ? up
              : filter === 3
                ? (left + up) >> 1
                : paeth(left, up, upLeft)
      rows[y * stride + x] = (value + predicted) & 0xff
    }
  }
  const pixels = new Uint8Array(width * height * 3)
  for (let i = 0; i < width * height; i++) {
    pixels[i * 3] = rows[i * channels]!
    pixels[i * 3 + 1] = rows[i * channels + 1]!
    pixels[i * 3 + 2] = rows[i * channels + 2]!
  }
  return { width, height, pixels }
}

/** The colour at a pixel. */
export const pixel = (image: Rgb, x: number, y: number): readonly [number, number, number] => {
  const i = (y * image.width + x) * 3
  return [image.pixels[i]!, image.pixels[i + 1]!, image.pixels[i + 2]!]
}

/** The area of an image at `x`, `y` of `width` × `height`. */
export const crop = (image: Rgb, x: number, y: number, width: number, height: number): Rgb => {
  const pixels = new Uint8Array(width * height * 3)
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 3
    pixels.set(image.pixels.subarray(from, from + width * 3), row * width * 3)
  }
  return { width, height, pixels }
}

/** Whether two images have the same size and the same pixels. */
export const samePixels = (a: Rgb, b: Rgb): boolean =>
  a.width === b.width && a.height === b.height && Buffer.from(a.pixels).equals(Buffer.from(b.pixels))

/** Where two images of the same size differ: how many pixels, and the box around them (for failure messages). */
export const difference = (a: Rgb, b: Rgb): string => {
  if (a.width !== b.width || a.height !== b.height)
    return `sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`
  let count = 0
  let box = { x0: a.width, y0: a.height, x1: -1, y1: -1 }
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * 3
      if (a.pixels[i] === b.pixels[i] && a.pixels[i + 1] === b.pixels[i + 1] && a.pixels[i + 2] === b.pixels[i + 2])
        continue
      count++
      box = { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x), y1: Math.max(box.y1, y) }
    }
  }
  return count === 0 ? "identical" : `${count} pixels differ, within ${box.x0},${box.y0}–${box.x1},${box.y1}`
}
