import { encodeEntityKey } from '../../src/core/entity-key';
import { FeatureCatalog } from '../../src/core/catalog';
import { OnlineStore } from '../../src/online-store/online-store';

export function perturbOnline(
  ports: { store: OnlineStore; catalog: FeatureCatalog; encodeEntityKey: typeof encodeEntityKey },
  target: { viewName: string; feature: string; keys: string[]; sigmaShare?: number; seed?: number },
): Promise<number>;
