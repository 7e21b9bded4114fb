import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as WireSchema from "../src/WireSchema.js"

describe("WireSchema.optional", () => {
  it("makes one field per schema, shared by every struct that uses it", () => {
    assert.strictEqual(WireSchema.optional(Schema.String), WireSchema.optional(Schema.String))
    const ofNumber: unknown = WireSchema.optional(Schema.Number)
    assert.notStrictEqual(WireSchema.optional(Schema.String), ofNumber)
  })

  it("a shared field reads each struct's own input: null and missing are nothing, a wrong type fails", () => {
    const Person = Schema.Struct({ name: WireSchema.optional(Schema.String) })
    const Pet = Schema.Struct({ name: WireSchema.optional(Schema.String), legs: Schema.Number })
    assert.deepStrictEqual(Schema.decodeUnknownSync(Person)({ name: null }), {})
    assert.deepStrictEqual(Schema.decodeUnknownSync(Person)({}), {})
    assert.deepStrictEqual(Schema.decodeUnknownSync(Pet)({ name: "Rex", legs: 4 }), { name: "Rex", legs: 4 })
    assert.deepStrictEqual(Schema.encodeSync(Pet)({ legs: 3 }), { legs: 3 })
    const wrong = Schema.decodeUnknownEither(Person)({ name: 7 })
    assert.isTrue(Either.isLeft(wrong))
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Pet)({ name: "Rex" })))
  })
})
