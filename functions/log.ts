import type { Logger } from '../core/ports.ts';

const LEVELS = { info: 0, warn: 1, error: 2, silent: 3 } as const;

/** One JSON line per log event on stderr, so stdout stays for what the user reads. */
export const createJsonLogger = (level: keyof typeof LEVELS = 'info'): Logger => {
  const write = (at: keyof typeof LEVELS, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[at] < LEVELS[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, message, ...fields })}\n`);
  };
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
};
