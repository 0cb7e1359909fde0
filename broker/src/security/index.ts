/** CURVE security for ztb (protocol/spec.md §Security): the public entry point of broker/src/security. */
export type { AllowListSizes, AllowListSources, KeyListName, SecurityRole } from "./key-policy";
export { AllowListError, KeyPolicy, LIST_OF_ROLE, SECURITY_ROLES } from "./key-policy";
export type { AllowList, CurveKeyPair, WrittenKeyPair } from "./keys";
export {
  KeyFileError,
  KeyFileExistsError,
  generateKeyPair,
  loadAllowList,
  loadKeyPair,
  loadPublicKey,
  publicKeyOf,
  writeKeyPair,
} from "./keys";
export type { PeerKeys } from "./curve-client";
export { applyClientSecurity } from "./curve-client";
export { SecurityOptionError, loadPeerKeys, peerKeysFromOptions } from "./peer-security";
export type { BrokerSecurityConfig, BrokerSecurityOptions } from "./server-security";
export { BrokerSecurity, KEY_LIST_OPTION, applyServerSecurity, brokerSecurityFromOptions } from "./server-security";
export type { ZapRefusal, ZapStats } from "./zap-handler";
export { ZAP_ENDPOINT, ZapHandler } from "./zap-handler";
export type { RevokedConnection, RouterDomain } from "./connection-keys";
export { CONNECT_WAIT_MS, ConnectionKeys, ROUTER_DOMAINS } from "./connection-keys";
