// Paging for list operations: the token is an opaque offset into a stable
// sorted list. A token that does not decode is the caller's error.

export interface Page<Item> {
  items: Item[];
  nextToken?: string;
}

export function paginate<Item>(all: readonly Item[], limit: number, token: string | undefined, invalidToken: () => Error): Page<Item> {
  const start = token === undefined ? 0 : decodeToken(token, invalidToken);
  const end = start + limit;
  const items = all.slice(start, end);
  return end < all.length ? { items, nextToken: Buffer.from(`offset:${end}`).toString('base64url') } : { items };
}

function decodeToken(token: string, invalidToken: () => Error): number {
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw invalidToken();
  return Number(match[1]);
}
