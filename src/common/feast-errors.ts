import type { ErrorBody } from './http-error.filter';

/**
 * Feast's wire contract for errors, on the routes that speak it: Feast's server answers a
 * FeastError with a JSON *string* holding `{"module","class","message"}`, from which Feast's
 * client (rest_error_handler.py, FeastError.from_error_detail) re-raises that class. Any other
 * error reaches Feast's client as a bare `RuntimeError` with the status: its body is the message.
 */
export const FEAST_ROUTES: ReadonlySet<string> = new Set(['/get-online-features', '/push', '/write-to-online-store', '/materialize', '/materialize-incremental']);

/** Our codes that Feast's server raises as one of its own classes, with the status it gives them. */
const FEAST_CLASSES: Readonly<Record<string, { name: string; status: number }>> = {
  FEATURE_VIEW_NOT_FOUND: { name: 'FeatureViewNotFoundException', status: 404 },
  FEATURE_SERVICE_NOT_FOUND: { name: 'FeatureServiceNotFoundException', status: 404 },
  PUSH_SOURCE_NOT_FOUND: { name: 'PushSourceNotFoundException', status: 422 },
  FEATURE_NAME_COLLISION: { name: 'FeatureNameCollisionError', status: 400 },
  FORBIDDEN: { name: 'FeastPermissionError', status: 403 },
};

export function isFeastRoute(url: string): boolean {
  return FEAST_ROUTES.has(url.split('?')[0]);
}

/** The status and JSON text of an error on a Feast route. */
export function feastErrorResponse(status: number, body: ErrorBody): { status: number; json: string } {
  const feast = FEAST_CLASSES[body.code];
  if (!feast) return { status, json: JSON.stringify(body.message) };
  const detail = JSON.stringify({ module: 'feast.errors', class: feast.name, message: body.message });
  return { status: feast.status, json: JSON.stringify(detail) };
}
