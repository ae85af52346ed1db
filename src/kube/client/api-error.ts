// Errors from the API server, carrying the HTTP code and the Status reason.
import { isObject } from '../../util/json';

export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    readonly code: number,
    readonly method: string,
    readonly path: string,
    /** Status.reason, e.g. "NotFound", "Conflict", "Expired". */
    readonly reason: string,
    readonly serverMessage: string,
  ) {
    super(`${method} ${path}: ${code} ${reason}${serverMessage ? `: ${serverMessage}` : ''}`);
  }

  static fromResponse(code: number, method: string, path: string, body: string): KubeApiError {
    let reason = '';
    let message = body.slice(0, 500);
    try {
      const status: unknown = JSON.parse(body);
      if (isObject(status)) {
        reason = typeof status.reason === 'string' ? status.reason : '';
        message = typeof status.message === 'string' ? status.message : message;
      }
    } catch {
      // not JSON: keep the raw (truncated) text
    }
    return new KubeApiError(code, method, path, reason, message);
  }
}

export function isApiErrorCode(error: unknown, code: number): boolean {
  return error instanceof KubeApiError && error.code === code;
}

export const isNotFound = (error: unknown): boolean => isApiErrorCode(error, 404);
export const isConflict = (error: unknown): boolean => isApiErrorCode(error, 409);
export const isAlreadyExists = (error: unknown): boolean =>
  error instanceof KubeApiError && error.code === 409 && error.reason === 'AlreadyExists';
export const isGone = (error: unknown): boolean => isApiErrorCode(error, 410);
