// Which handler a request's method picks on a storage resource; any other method is the 405
// Swift's servers answer.
import type { SwiftResponse } from '../pipeline.ts';
import { plain } from './responses.ts';

export type MethodHandlers = Partial<Record<string, () => SwiftResponse | Promise<SwiftResponse>>>;

export async function byMethod(method: string, handlers: MethodHandlers): Promise<SwiftResponse> {
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  return handler ? handler() : plain(405, 'The method is not allowed for this resource.');
}
