import { memoryVault } from '../security/memory-vault.test-support';
import { PersonalDataCipher } from '../security/personal-data-cipher';
import { openStoredBody, sealStoredBody } from './idempotent-responses';

describe('idempotency responses that are personal data', () => {
  const first = {
    status: 201,
    headers: { ETag: '"2-bgVWmu21x4VhflBU"', Location: '/api/v1/orgs/org_1/users/usr_1' },
    body: {
      orgId: 'org_1',
      userId: 'usr_1',
      email: 'Ysolde.Varnaby@example.test',
      name: 'Ysolde Värnaby 🌲',
      roles: ['member'],
      extra: [1, null, { deep: true }],
    },
    position: 42,
  };

  async function setUp() {
    const vault = memoryVault();
    const cipher = new PersonalDataCipher(vault);
    await cipher.seal('usr_1', { email: 'Ysolde.Varnaby@example.test', name: 'Ysolde Värnaby 🌲' }); // the subject's key, as their UserCreated made it
    return { vault, cipher };
  }

  it('are stored sealed under the subject key, and a replay opens exactly the first body', async () => {
    const { cipher } = await setUp();
    const stored = await sealStoredBody(cipher, first, 'usr_1');
    expect(stored).toMatchObject({
      status: 201,
      headers: { Location: first.headers.Location },
      body: null,
      position: 42,
      sealedBody: { subjectId: 'usr_1', sealedHeaders: expect.stringMatching(/^v1\./) },
    });
    // What the event store receives (as JSON) holds nothing of the body in clear, nor its digest (the ETag, which
    // would confirm a guess of the email and name).
    const json = JSON.stringify(stored);
    for (const clear of ['Ysolde', 'Varnaby', 'V\\u00e4rnaby', 'Värnaby', 'member', 'deep', 'bgVWmu21x4VhflBU'])
      expect(json).not.toContain(clear);
    expect(await openStoredBody(cipher, JSON.parse(json))).toEqual(first);
    // A reader that predates sealed headers opens `sealed` as the body: still the body alone.
    expect(await cipher.openValue('usr_1', stored.sealedBody!.sealed)).toEqual(first.body);
    // Whatever the route answered is kept as is, e.g. an echo of only what the caller supplied.
    for (const body of [{ roles: ['admin'] }, ['a', 2], 'text', 0, undefined])
      expect((await openStoredBody(cipher, await sealStoredBody(cipher, { ...first, body }, 'usr_1'))).body).toEqual(
        body ?? null,
      );
  });

  it('become unreadable once the subject key is destroyed: the replay then has no body', async () => {
    const { vault, cipher } = await setUp();
    const stored = await sealStoredBody(cipher, first, 'usr_1');
    await vault.destroyDataKey('usr_1');
    expect(await openStoredBody(cipher, stored)).toEqual({
      status: 201,
      headers: { Location: first.headers.Location },
      body: null,
      position: 42,
    });
  });

  it('cannot be opened as another subject', async () => {
    const { vault, cipher } = await setUp();
    const stored = await sealStoredBody(cipher, first, 'usr_1');
    await vault.ensureDataKey('usr_2', (await vault.getDataKey('usr_1'))!);
    await expect(
      openStoredBody(cipher, { ...stored, sealedBody: { ...stored.sealedBody!, subjectId: 'usr_2' } }),
    ).rejects.toThrow();
  });

  it('keep no body for a subject without a key (erased meanwhile), and never make them one', async () => {
    const { vault, cipher } = await setUp();
    expect(await sealStoredBody(cipher, first, 'usr_gone')).toEqual({
      status: 201,
      headers: { Location: first.headers.Location },
      body: null,
      position: 42,
    });
    expect(vault.keyIds()).toEqual(['usr_1']);
  });

  it('open as they were stored before their headers were sealed with the body (the body alone sealed)', async () => {
    const { cipher } = await setUp();
    const sealed = await cipher.sealValueUnderExistingKey('usr_1', first.body);
    const older = { ...first, body: null, sealedBody: { subjectId: 'usr_1', sealed: sealed! } };
    expect(await openStoredBody(cipher, older)).toEqual(first);
  });

  it('leave responses without a sealed body as they are', async () => {
    const { cipher } = await setUp();
    const plain = { status: 201, headers: {}, body: { id: 'org_1' } };
    expect(await openStoredBody(cipher, plain)).toBe(plain);
  });
});
