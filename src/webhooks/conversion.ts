// ConversionReview (apiextensions.k8s.io/v1) handling. Converters are
// registered per group and kind, so each provider adds its own kinds.
import type { Converter } from '../api/conversion';
import { splitApiVersion, type TypedObject } from '../api/meta';
import { isObject } from '../util/json';

export const CONVERSION_REVIEW_API_VERSION = 'apiextensions.k8s.io/v1';

export interface ConversionReviewResponse {
  apiVersion: typeof CONVERSION_REVIEW_API_VERSION;
  kind: 'ConversionReview';
  response: {
    uid: string;
    convertedObjects: unknown[];
    result: { status: 'Success' } | { status: 'Failure'; message: string };
  };
}

export class ConversionRegistry {
  private readonly converters = new Map<string, Converter>();

  register(group: string, kind: string, converter: Converter): this {
    const key = `${kind}.${group}`;
    if (this.converters.has(key)) throw new Error(`a converter for ${key} is already registered`);
    this.converters.set(key, converter);
    return this;
  }

  /** Converts one object to `desiredApiVersion`; throws with a readable message when it cannot. */
  convert(obj: unknown, desiredApiVersion: string): TypedObject {
    if (!isObject(obj) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || !isObject(obj.metadata)) {
      throw new Error('object to convert has no apiVersion, kind or metadata');
    }
    const source = obj as unknown as TypedObject;
    const from = splitApiVersion(source.apiVersion);
    const to = splitApiVersion(desiredApiVersion);
    if (from.group !== to.group) {
      throw new Error(`cannot convert ${source.kind} from group ${from.group} to group ${to.group}`);
    }
    const converter = this.converters.get(`${source.kind}.${from.group}`);
    if (!converter) throw new Error(`no converter registered for ${source.kind}.${from.group}`);
    return converter(source, to.version);
  }

  /**
   * Answers a ConversionReview. A malformed review or any object that cannot be converted fails the
   * whole review (the apiserver then fails the request), never the process.
   */
  review(body: unknown): ConversionReviewResponse {
    const request = isObject(body) && isObject(body.request) ? body.request : undefined;
    const uid = typeof request?.uid === 'string' ? request.uid : '';
    const respond = (result: ConversionReviewResponse['response']['result'], convertedObjects: unknown[] = []): ConversionReviewResponse => ({
      apiVersion: CONVERSION_REVIEW_API_VERSION,
      kind: 'ConversionReview',
      response: { uid, convertedObjects, result },
    });
    if (!request || typeof request.desiredAPIVersion !== 'string' || !Array.isArray(request.objects)) {
      return respond({ status: 'Failure', message: 'malformed ConversionReview: request.desiredAPIVersion and request.objects are required' });
    }
    const desired = request.desiredAPIVersion;
    try {
      return respond({ status: 'Success' }, request.objects.map((obj) => this.convert(obj, desired)));
    } catch (error) {
      return respond({ status: 'Failure', message: error instanceof Error ? error.message : String(error) });
    }
  }
}
