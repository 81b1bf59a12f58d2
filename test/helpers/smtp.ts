import net from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message as the SMTP sink received it. */
export interface ReceivedMail {
  messageId: string | undefined;
  /** `X-ECabinet-Key` header. */
  key: string | undefined;
  /** Envelope recipients (RCPT TO). */
  rcpt: string[];
  subject: string | undefined;
  text: string | undefined;
  html: string | false | undefined;
  parsed: ParsedMail;
}

/**
 * A real SMTP server in the test process (smtp-server + mailparser) on loopback: the app's
 * nodemailer transport talks to it over TCP exactly as to a production relay. `stop()` takes it
 * down (connections refused), `start()` brings it back on the same port; `refuse` answers every
 * new connection with 421; from the `holdFrom`-th message (0-based) on, messages are recorded but
 * never answered (what a sender that dies between sending the DATA and reading the 250 leaves behind).
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** When true, new connections get `421 Service not available`. */
  refuse = false;
  /** Index of the first message to record and leave unanswered (Infinity: answer all). */
  holdFrom = Infinity;
  /** Recipients refused at RCPT TO with `550 No such user` (a permanent failure). */
  readonly unknownMailboxes = new Set<string>();
  private server: SMTPServer | null = null;

  private constructor(
    readonly port: number,
    private readonly auth: { user: string; pass: string } | null,
  ) {}

  /** Starts a sink on a free port; with `auth`, it requires those credentials (plain AUTH over loopback). */
  static async create(opts: { auth?: { user: string; pass: string } } = {}): Promise<SmtpSink> {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const sink = new SmtpSink(port, opts.auth ?? null);
    await sink.start();
    return sink;
  }

  /** The SMTP_URL for the app. */
  get url(): string {
    const cred = this.auth ? `${encodeURIComponent(this.auth.user)}:${encodeURIComponent(this.auth.pass)}@` : '';
    return `smtp://${cred}127.0.0.1:${this.port}`;
  }

  /** Listens (again) on the sink's port. */
  async start(): Promise<void> {
    if (this.server) return;
    const options: SMTPServerOptions = {
      logger: false,
      disabledCommands: this.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !this.auth,
      allowInsecureAuth: true,
      closeTimeout: 100,
      onConnect: (_session, cb) => (this.refuse ? cb(Object.assign(new Error('Service not available, try later'), { responseCode: 421 })) : cb()),
      onAuth: (auth, _session, cb) =>
        this.auth && auth.username === this.auth.user && auth.password === this.auth.pass ? cb(null, { user: auth.username }) : cb(new Error('Invalid credentials')),
      onRcptTo: (address, _session, cb) =>
        this.unknownMailboxes.has(address.address) ? cb(Object.assign(new Error('No such user here'), { responseCode: 550 })) : cb(),
      onData: (stream, session, cb) => {
        const rcpt = session.envelope.rcptTo.map((r) => r.address);
        simpleParser(stream).then(
          (parsed) => {
            const hold = this.received.length >= this.holdFrom;
            this.received.push({
              messageId: parsed.messageId,
              key: parsed.headers.get('x-ecabinet-key') as string | undefined,
              rcpt,
              subject: parsed.subject,
              text: parsed.text,
              html: parsed.html,
              parsed,
            });
            if (!hold) cb();
          },
          (err: Error) => cb(err),
        );
      },
    };
    const server = new SMTPServer(options);
    server.on('error', () => {
      /* a client vanishing mid-session (kill -9) is expected in crash tests */
    });
    await new Promise<void>((resolve, reject) => {
      server.listen(this.port, '127.0.0.1', () => resolve());
      server.once('error', reject);
    });
    this.server = server;
  }

  /** Stops listening (clients get ECONNREFUSED) and drops open sessions. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages whose `X-ECabinet-Key` starts with `prefix`. */
  withKeyPrefix(prefix: string): ReceivedMail[] {
    return this.received.filter((m) => m.key?.startsWith(prefix));
  }
}
