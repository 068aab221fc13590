import { upcastEvent, type UpcastEntry } from './upcast';

/**
 * A synthetic event type: `Greeted` v0 stored `{who}`; v1 renamed it `{name}` and added `formal`; v2 split the
 * name. The real events are all at version 1 today: this is the mechanism a v2 will use.
 */
const CATALOGUE: Record<string, UpcastEntry> = {
  Greeted: {
    version: 2,
    upcasters: {
      0: (d) => ({ name: (d as { who: string }).who, formal: false }),
      1: (d) => {
        const { name, formal } = d as { name: string; formal: boolean };
        const [given, ...rest] = name.split(' ');
        return { given, family: rest.join(' ') || null, formal };
      },
    },
  },
  Waved: { version: 1, upcasters: { 0: (d) => ({ ...(d as object), hand: 'right' }) } },
  Gapped: { version: 2, upcasters: { 1: (d) => d } },
};

const event = (type: string, data: unknown) => ({ type, streamId: 's', data });

describe('upcastEvent', () => {
  it('upcasts a v0 event to v1', () => {
    expect(upcastEvent(CATALOGUE, event('Waved', { at: 'door' }), 0)).toEqual(
      event('Waved', { at: 'door', hand: 'right' }),
    );
  });

  it('chains upcasters from the stored version up to the current one', () => {
    expect(upcastEvent(CATALOGUE, event('Greeted', { who: 'Ada Lovelace' }), 0).data).toEqual({
      given: 'Ada',
      family: 'Lovelace',
      formal: false,
    });
    expect(upcastEvent(CATALOGUE, event('Greeted', { name: 'Ada', formal: true }), 1).data).toEqual({
      given: 'Ada',
      family: null,
      formal: true,
    });
  });

  it('leaves the stored event as it was (upcasting copies)', () => {
    const stored = event('Waved', { at: 'door' });
    upcastEvent(CATALOGUE, stored, 0);
    expect(stored).toEqual(event('Waved', { at: 'door' }));
  });

  it('returns a current event, or one of a type it does not know, as the same object', () => {
    const current = event('Greeted', { given: 'Ada', family: null, formal: true });
    expect(upcastEvent(CATALOGUE, current, 2)).toBe(current);
    const unknown = event('toString', {});
    expect(upcastEvent(CATALOGUE, unknown, 0)).toBe(unknown);
  });

  it('refuses an event newer than the catalogue and a chain with a gap, rather than misread them', () => {
    expect(() => upcastEvent(CATALOGUE, event('Waved', {}), 2)).toThrow(
      'Waved stored at schema version 2: this code knows up to version 1.',
    );
    expect(() => upcastEvent(CATALOGUE, event('Gapped', {}), 0)).toThrow(
      'Gapped: no upcaster from schema version 0 to 1.',
    );
    expect(() => upcastEvent(CATALOGUE, event('Waved', {}), 0.5)).toThrow();
  });
});
