import { SetMetadata } from '@nestjs/common';
import { Role } from '../core/access';

export const ACCESS_METADATA = 'featurelake:access';

/** The least role a route (or every route of a controller) needs; routes without it need admin. */
export const Access = (role: Role | 'public') => SetMetadata(ACCESS_METADATA, role);
