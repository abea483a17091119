import type { WriteGuard } from '../core/actions/ports.ts';
import { assertNotQuiesced } from '../core/dr/quiesce.ts';
import type { WriteResource } from '../core/dr/quiesce.ts';
import type { DrRepository } from '../core/dr/ports.ts';

/** The actions' write guard on the DR quiesce flags (read on every write, never cached). */
export class QuiesceWriteGuard implements WriteGuard {
  readonly #repo: Pick<DrRepository, 'listQuiesceFlags'>;
  readonly #clock: () => Date;

  constructor(options: { repo: Pick<DrRepository, 'listQuiesceFlags'>; clock?: () => Date }) {
    this.#repo = options.repo;
    this.#clock = options.clock ?? (() => new Date());
  }

  async assertWritable(resource: WriteResource): Promise<void> {
    assertNotQuiesced(await this.#repo.listQuiesceFlags(), resource, this.#clock());
  }
}
