import { Injectable } from '@nestjs/common';

/** The jobs this process is running right now: the job store never takes them for interrupted. */
@Injectable()
export class RunningJobs {
  private readonly ids = new Set<string>();

  add(id: string): void {
    this.ids.add(id);
  }

  delete(id: string): void {
    this.ids.delete(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}
