/**
 * The ztb protocol v1 codec (protocol/spec.md): frames <-> typed messages (broker/src/protocol/messages.ts), for
 * the broker and for its peers. No sockets, clocks or I/O; JSON frames are checked against protocol/schemas.
 *
 * Frames given to decoders are those after the ROUTER's routing id (on the PULL answers endpoint: all of them).
 * Decoders throw only ProtocolError, whatever the input; encoders write compact JSON in the member order of the
 * object they are given, so the vectors of protocol/examples round-trip octet for octet.
 */
export { ERROR_CODES, ProtocolError } from "./errors";
export type { ErrorCode } from "./errors";
export { PEER_GONE_FRAME, connectNoticeId, isPeerHello as isConnectNotice } from "./octets";
export { frameView } from "./frame-view";
export { claimedCommand, isClientSignature, isPlainFailure, oneHopPath, onlyHop } from "./envelope";
export { decodeClient, encodeClientReply, encodeClient, decodeClientReply } from "./clients";
export { decodeWorker, encodeToWorker, encodeWorker, decodeToWorker, salvageToWorker } from "./workers";
export { decodeAnswer, encodeAnswer } from "./answers";
export { decodeAdmin, encodeAdminReply, encodeAdmin, decodeAdminReply } from "./admin";
