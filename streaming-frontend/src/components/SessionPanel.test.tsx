import { act, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Api } from '../lib/api';
import { fakeFetch } from '../test/fakeFetch';
import { SessionPanel, newSessionBody, shortId } from './SessionPanel';

const DRAFT = { seed: '', subjects: '', scenario: '', paused: false, ttl: '3600' };

function panel(api: Api, session: string | null = null, canControl = true) {
  return render(
    <SessionPanel
      api={api}
      session={session}
      onSwitch={() => undefined}
      onDeleted={() => undefined}
      scenarios={null}
      canControl={canControl}
      visible
      zone="utc"
    />,
  );
}

async function settle(): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

describe('the new-session form', () => {
  it('sends only what was filled in, subjects split on commas or spaces', () => {
    expect(newSessionBody(DRAFT)).toEqual({ ttl_s: 3600 });
    expect(
      newSessionBody({
        seed: ' 7 ',
        subjects: 'alice, bob  carol,',
        scenario: 'workout',
        paused: true,
        ttl: '60',
      }),
    ).toEqual({ seed: 7, subjects: ['alice', 'bob', 'carol'], scenario: 'workout', paused: true, ttl_s: 60 });
  });

  it('refuses a seed or time to live the server would refuse', () => {
    expect(newSessionBody({ ...DRAFT, seed: '-1' })).toMatch(/seed/);
    expect(newSessionBody({ ...DRAFT, ttl: '0' })).toMatch(/from 1 to 86400/);
    expect(newSessionBody({ ...DRAFT, ttl: '86401' })).toMatch(/from 1 to 86400/);
  });

  it('shortens ids for the list, keeping short ones whole', () => {
    expect(shortId('s_abcdefghijklmnop')).toBe('s_abcdefgh…');
    expect(shortId('s_abc')).toBe('s_abc');
  });
});

describe('SessionPanel', () => {
  it('is absent on a backend without sessions', async () => {
    const { container } = panel(new Api('', fakeFetch({}).fetch));
    await settle();
    expect(container).toBeEmptyDOMElement();
  });

  it('offers neither creating nor deleting without the control scope', async () => {
    const fake = fakeFetch({ 'GET /api/sessions': () => ({ body: { items: [{ id: 's_1', seed: 1 }] } }) });
    panel(new Api('', fake.fetch), 's_1', false);
    await settle();
    expect(screen.getByTestId('session-select')).toHaveValue('s_1');
    expect(screen.queryByTestId('delete-session')).toBeNull();
    expect(screen.queryByTestId('new-session')).toBeNull();
  });
});
