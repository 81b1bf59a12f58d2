// Preloaded into a child server (NODE_OPTIONS=--import) by test/cluster/jobs-nodes.test.ts: this process's clock
// runs ECABINET_TEST_CLOCK_SKEW_MS ahead, as on a host whose time is wrong. Only `new Date()` and `Date.now()`
// move; dates built from a value stay what they are.
const skew = Number(process.env.ECABINET_TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
