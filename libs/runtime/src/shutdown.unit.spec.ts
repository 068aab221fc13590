import { EventEmitter } from 'node:events';
import type { Logger } from '@arbor/application';
import { closeInOrder, exitOnSignals, type SignalTarget } from './shutdown';

/** A stand-in for the process: signals are emitted by the test, exits recorded. */
function fakeProcess(): SignalTarget & { emit(signal: string): void; exits: number[]; settled(): Promise<void> } {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let onExit: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => (onExit = resolve));
  return {
    once: (signal, listener) => emitter.once(signal, listener),
    emit: (signal) => void emitter.emit(signal),
    exit: (code) => {
      exits.push(code);
      onExit();
    },
    exits,
    settled: () => exited,
  };
}

function recordingLogger(lines: string[]): Logger {
  const push = (message: string) => void lines.push(message);
  return { info: push, warn: push, error: push };
}

describe('closeInOrder', () => {
  it('runs every step in order, also after one fails, then throws the first failure', async () => {
    const ran: string[] = [];
    const closing = closeInOrder(
      () => ran.push('server'),
      async () => {
        ran.push('relay');
        throw new Error('relay stuck');
      },
      async () => ran.push('engines'),
      () => {
        throw new Error('second failure');
      },
    );
    await expect(closing).rejects.toThrow('relay stuck');
    expect(ran).toEqual(['server', 'relay', 'engines']);
  });
});

describe('exitOnSignals', () => {
  it('closes once on SIGTERM, logs the signal and exits 0; a second signal changes nothing', async () => {
    const target = fakeProcess();
    const lines: string[] = [];
    let closes = 0;
    exitOnSignals({ close: async () => void closes++ }, recordingLogger(lines), { target });
    target.emit('SIGTERM');
    target.emit('SIGINT');
    await target.settled();
    expect({ closes, exits: target.exits, lines }).toEqual({ closes: 1, exits: [0], lines: ['shutting down'] });
  });

  it('exits 1 when the close fails, saying so', async () => {
    const target = fakeProcess();
    const lines: string[] = [];
    exitOnSignals({ close: () => Promise.reject(new Error('pool gone')) }, recordingLogger(lines), { target });
    target.emit('SIGINT');
    await target.settled();
    expect({ exits: target.exits, lines }).toEqual({ exits: [1], lines: ['shutting down', 'shutdown failed'] });
  });

  it('exits 1 when the close does not finish within the timeout', async () => {
    const target = fakeProcess();
    const lines: string[] = [];
    exitOnSignals({ close: () => new Promise<void>(() => undefined) }, recordingLogger(lines), {
      target,
      timeoutMs: 0,
    });
    target.emit('SIGTERM');
    await target.settled();
    expect({ exits: target.exits, lines }).toEqual({ exits: [1], lines: ['shutting down', 'shutdown timed out'] });
  });
});
