/**
 * How an upload's body reaches the `HttpClient`, as a service a program may provide.
 *
 * Without it, `FileSystem.uploadFile`/`uploadFiles` send their multipart body as an Effect `Stream`
 * (`HttpBody.stream`), which every `HttpClient` accepts. An `UploadBody` service replaces that for
 * uploads whose every source is in memory or a local file (a `Stream` source always goes the
 * portable way): `NodeUploadBody.layer` sends them as an async iterable that the undici client
 * reads straight from the file, at a fraction of the CPU a stream body costs.
 *
 * @since 0.1.0
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import * as Context from "effect/Context"

/**
 * The content of one file of an upload: bytes in memory, or a local file whose size was read when
 * the upload began (the body carries exactly that many bytes; a file that shrinks fails the upload).
 *
 * @since 0.1.0
 * @category models
 */
export type UploadContent =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | { readonly _tag: "LocalFile"; readonly path: string; readonly size: number }

/**
 * One file of an upload and where it goes in the sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadEntry {
  readonly destination: string
  readonly content: UploadContent
}

/**
 * What a body reports as the client reads it. Every callback is synchronous and must not throw.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadObserver {
  /** The client began to read the body: once per attempt, so that progress starts again on a replay. */
  readonly started: () => void
  /** The client took `bytes` more bytes of file content (framing excluded). */
  readonly sent: (bytes: number) => void
  /** A local file could not be read; the request then fails with the same error. */
  readonly sourceFailed: (error: unknown) => void
}

/**
 * Builds the multipart body of `POST /files/bulk-upload`. The body is sent once per attempt, so it
 * must be readable again from the start each time the client reads it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly multipart: (
    entries: ReadonlyArray<UploadEntry>,
    boundary: string,
    observer: UploadObserver
  ) => HttpBody.HttpBody
}

/**
 * The service tag. Optional: uploads use it when the program provides it.
 *
 * @since 0.1.0
 * @category tags
 */
export class UploadBody extends Context.Tag("@effect-daytona/sdk/UploadBody")<UploadBody, Service>() {}
