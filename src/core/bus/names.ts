// Topic and host names, and the queue/exchange names derived from them. The names become
// AMQP routing keys on a topic exchange, so the wildcard characters (* and #) are refused.

const NAME = /^[A-Za-z0-9_\-.:]+$/;

function check(kind: string, value: string): string {
  if (typeof value !== 'string' || !NAME.test(value) || value.startsWith('.') || value.endsWith('.')) {
    throw new TypeError(`invalid bus ${kind} ${JSON.stringify(value)}: use letters, digits, "_", "-", ":" and inner "."`);
  }
  // AMQP names stop at 255 bytes; the longest derived one is `<topic>_fanout_<host>_<8 hex>`.
  if (value.length > 100) throw new TypeError(`bus ${kind} longer than 100 characters: ${value.slice(0, 40)}...`);
  if (value.startsWith('amq.')) throw new TypeError(`bus ${kind} ${JSON.stringify(value)}: names starting "amq." belong to the broker`);
  return value;
}

/** A target as written by a caller: "topic" or "topic.<host>". */
export function checkTarget(topic: string): string {
  check('topic', topic.length > 100 ? topic.slice(0, 100) : topic);
  if (topic.length > 201) throw new TypeError(`bus target longer than 201 characters: ${topic.slice(0, 40)}...`);
  return topic;
}

export function checkServerNames(topic: string, host: string): void {
  check('topic', topic);
  check('host', host);
}

/** The queue only the server on `host` consumes. */
export function hostQueue(topic: string, host: string): string {
  return `${topic}.${host}`;
}

/** The fanout exchange every server of `topic` binds its own queue to. */
export function fanoutExchange(topic: string): string {
  return `${topic}_fanout`;
}
