/**
 * One error family for everything a caller can get wrong. The HTTP layer renders each as
 * RFC 9457 `application/problem+json`; anything that is not an AppError is a logged 500.
 */
export interface ProblemFields {
  status: number;
  /** a stable, documented problem type, e.g. `invalid-signature` */
  type: string;
  title: string;
  detail?: string;
  /** extra members of the problem document (RFC 9457 §3.2) */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(fields: ProblemFields) {
    super(fields.detail ?? fields.title, { cause: fields.cause });
    this.name = 'AppError';
    this.status = fields.status;
    this.type = fields.type;
    this.title = fields.title;
    this.detail = fields.detail;
    this.extensions = fields.extensions ?? {};
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail: string, type = 'unauthorized') {
    super({ status: 401, type, title: 'Unauthorized', detail });
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends AppError {
  constructor(detail: string) {
    super({ status: 403, type: 'forbidden', title: 'Forbidden', detail });
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super({ status: 404, type: 'not-found', title: 'Not Found', detail: `${what} does not exist in this tenant.` });
    this.name = 'NotFoundError';
  }
}

export class MalformedPayloadError extends AppError {
  constructor(detail: string, cause?: unknown) {
    super({ status: 400, type: 'malformed-payload', title: 'Malformed payload', detail, cause });
    this.name = 'MalformedPayloadError';
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(detail: string) {
    super({ status: 415, type: 'unsupported-media-type', title: 'Unsupported Media Type', detail });
    this.name = 'UnsupportedMediaTypeError';
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super({
      status: 413,
      type: 'payload-too-large',
      title: 'Payload Too Large',
      detail: `The body exceeds the limit of ${limitBytes} bytes (TRIBUTARY_MAX_BODY_BYTES).`,
      extensions: { limitBytes },
    });
    this.name = 'PayloadTooLargeError';
  }
}

export interface InvalidField {
  path: string;
  message: string;
}

/** A request that parsed but does not match its schema: 422 with every bad field. */
export class ValidationError extends AppError {
  constructor(fields: InvalidField[], what = 'The request') {
    super({
      status: 422,
      type: 'validation-failed',
      title: 'Unprocessable Content',
      detail: `${what} has ${fields.length} invalid field(s): ${fields.map((f) => `${f.path || '(root)'}: ${f.message}`).join('; ')}`,
      extensions: { errors: fields },
    });
    this.name = 'ValidationError';
  }
}

/** A write lost a race with another writer (optimistic version check); the caller re-reads and retries. */
export class VersionConflictError extends Error {
  constructor(readonly key: string) {
    super(`Version conflict on ${key}`);
    this.name = 'VersionConflictError';
  }
}
