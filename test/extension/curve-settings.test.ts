import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { diagnoseHandshake, silentHandshake } from "../../extension/src/bridge/curve-diagnosis";
import {
  CURVE_SETTINGS,
  CurveSettingsError,
  attachCurve,
  ownBrokerCurve,
  resolveSettingPath,
  type CurveSettings,
} from "../../extension/src/broker/curve";
import { brokerArgs, workerArgs } from "../../extension/src/broker/launch";

const Z85 = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const NONE: CurveSettings = { serverKey: "", extensionCertificate: "", brokerCertificate: "", clientKeys: "", workerKeys: "", adminKeys: "" };

describe("extension CURVE settings", () => {
  it("declares every ztb.curve setting in package.json", () => {
    const manifest = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8")) as {
      contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
    };
    const props = manifest.contributes.configuration.properties;
    for (const name of Object.values(CURVE_SETTINGS)) assert.equal(props[name]?.default, "", name);
  });

  it("resolves ~, ${workspaceFolder} and relative paths, and leaves a Z85 key alone", () => {
    const where = { home: "/home/ann", workspaceFolder: "/ws" };
    assert.equal(resolveSettingPath("~/.ztb/ext.key_secret", where), "/home/ann/.ztb/ext.key_secret");
    assert.equal(resolveSettingPath("${workspaceFolder}/keys/broker.key", where), "/ws/keys/broker.key");
    assert.equal(resolveSettingPath("keys/broker.key", where), "/ws/keys/broker.key");
    assert.equal(resolveSettingPath("  /etc/ztb/broker.key ", where), "/etc/ztb/broker.key");
    assert.equal(resolveSettingPath(Z85, where), Z85);
    assert.equal(resolveSettingPath("", where), "");
    assert.equal(resolveSettingPath("keys/b.key", { home: "/h", workspaceFolder: undefined }), "keys/b.key");
  });

  it("attaches with CURVE only when both the extension's certificate and a server key are set", () => {
    assert.equal(attachCurve(NONE), undefined);
    assert.deepEqual(attachCurve({ ...NONE, extensionCertificate: "/k/ext.key_secret", serverKey: Z85 }), {
      certificate: "/k/ext.key_secret",
      serverKey: Z85,
      serverKeySetting: "ztb.curve.serverKey",
    });
    // Without serverKey, the broker certificate's public-key line is the server key.
    assert.deepEqual(attachCurve({ ...NONE, extensionCertificate: "/k/ext.key_secret", brokerCertificate: "/k/broker.key_secret" }), {
      certificate: "/k/ext.key_secret",
      serverKey: "/k/broker.key_secret",
      serverKeySetting: "ztb.curve.brokerCertificate",
    });
    assert.throws(() => attachCurve({ ...NONE, serverKey: Z85 }), CurveSettingsError);
    assert.throws(() => attachCurve({ ...NONE, extensionCertificate: "/k/ext.key_secret" }), /ztb\.curve\.serverKey is empty/);
  });

  it("starts the broker with CURVE from its certificate, empty allow-lists becoming the extension's own key", () => {
    assert.equal(ownBrokerCurve({ ...NONE, serverKey: Z85, extensionCertificate: "/k/ext.key_secret" }), undefined);
    const own = ownBrokerCurve({ ...NONE, brokerCertificate: "/k/broker.key_secret", extensionCertificate: "/k/ext.key_secret", workerKeys: "/k/workers" });
    assert.deepEqual(own?.args, [
      "--curve-secret", "/k/broker.key_secret",
      "--client-keys", "/k/ext.key_secret",
      "--worker-keys", "/k/workers",
      "--admin-keys", "/k/ext.key_secret",
    ]);
    assert.deepEqual(own?.files, { certificate: "/k/ext.key_secret", serverKey: "/k/broker.key_secret", serverKeySetting: "ztb.curve.brokerCertificate" });
    assert.throws(() => ownBrokerCurve({ ...NONE, brokerCertificate: "/k/broker.key_secret" }), /needs ztb\.curve\.extensionCertificate/);
    assert.throws(() => ownBrokerCurve({ ...NONE, adminKeys: "/k/admins" }), /ztb\.curve\.adminKeys needs ztb\.curve\.brokerCertificate/);
  });

  it("puts the CURVE options before the endpoints of ztb broker, and gives test workers the extension's key", () => {
    const settings = { clients: "c", workers: "w", answers: "a", admin: "ad", tries: 0, timeout: 0, heartbeat: 1000, history: 10, dataDirectory: "" };
    assert.deepEqual(brokerArgs(settings, ["--curve-secret", "/b"]).slice(-5), ["--curve-secret", "/b", "c", "w", "a"]);
    assert.deepEqual(workerArgs("w", "a", 0, 1, { certificate: "/e", serverKey: Z85, serverKeySetting: "ztb.curve.serverKey" }).slice(-4), [
      "--curve-key", "/e", "--server-key", Z85,
    ]);
    assert.ok(!workerArgs("w", "a", 0, 1).includes("--curve-key"));
  });

  it("explains handshake failures in one line naming the likely cause", () => {
    const at = { endpoint: "tcp://h:4164", role: "admin" as const, publicKey: Z85, serverKeySetting: "ztb.curve.serverKey" };
    assert.equal(diagnoseHandshake("protocol", "ERR_ZMTP_MECHANISM_MISMATCH", at)?.cause, "not-curve");
    assert.equal(diagnoseHandshake("protocol", "ERR_ZMTP_MECHANISM_MISMATCH", { ...at, publicKey: undefined })?.cause, "needs-curve");
    assert.equal(diagnoseHandshake("other", "EPIPE", { ...at, publicKey: undefined }), undefined, "plain connections are left alone");
    assert.match(diagnoseHandshake("auth", "ZAP status 400", { ...at, role: "clients" })?.message ?? "", /client allow-list \(--client-keys\)$/);
    const silent = silentHandshake(at, 5);
    assert.equal(silent.cause, "silent");
    assert.match(silent.message, /within 5 s: .*admin allow-list.*ztb\.curve\.serverKey/);
  });
});
