import type { UserQueries, UserView } from '@arbor/application';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { emailKey, toUserView, USER_COLUMNS, type UserRow } from './read-model-rows';

export class SqliteUserQueries implements UserQueries {
  private readonly byId: Statement<[string], UserRow>;
  private readonly byEmailKey: Statement<[string], UserRow>;

  constructor(db: SqliteDatabase) {
    this.byId = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`);
    // email_key is not UNIQUE (see the schema): should two rows ever share it, the oldest id wins.
    this.byEmailKey = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = ? ORDER BY id LIMIT 1`);
  }

  async get(id: string): Promise<UserView | undefined> {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toUserView(row);
  }

  async findByEmail(email: string): Promise<UserView | undefined> {
    const row = this.byEmailKey.get(emailKey(email));
    return row === undefined ? undefined : toUserView(row);
  }
}
