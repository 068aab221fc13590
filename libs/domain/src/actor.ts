/** Who caused an event. Every event carries one (contract section 8). */
export interface Actor {
  type: 'user' | 'client' | 'system';
  id: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'system' };
