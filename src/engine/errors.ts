/**
 * A problem with the user's model or arguments (CLI exit status 2). The message always says
 * where (layer id, parameter) and what would be valid; it is raised before any tensor exists.
 */
export class SpecError extends Error {
  constructor(
    message: string,
    readonly layer?: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'SpecError';
  }
}

/** A run was cancelled through its AbortSignal. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A failure inside the engine while executing a valid model (CLI exit status 1). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly node?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
