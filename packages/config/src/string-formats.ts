import {
  checkDnsName,
  checkFleetName,
  checkNonEmpty,
  checkOrigin,
  checkPathPrefix,
  checkProbePath,
  checkRedisUrl,
  checkRouteHost,
  checkToken,
  type StringCheck,
  type StringFormat,
  type StringFormats,
} from '@podgate/protocol';
import { checkListen, checkNameserver, checkWorkers } from './addresses.js';

/** The check of each string format the schema names; typed so that each resolves to what the format declares. */
export const STRING_CHECKS: { readonly [F in StringFormat]: StringCheck<StringFormats[F]> } = {
  dnsName: checkDnsName,
  routeHost: checkRouteHost,
  pathPrefix: checkPathPrefix,
  probePath: checkProbePath,
  listen: checkListen,
  nameserver: checkNameserver,
  workers: checkWorkers,
  token: checkToken,
  origin: checkOrigin,
  nonEmpty: checkNonEmpty,
  redisUrl: checkRedisUrl,
  fleetName: checkFleetName,
};
