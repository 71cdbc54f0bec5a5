#!/usr/bin/env bash
# Installs the webhook without cert-manager: `palisade serve --self-signed --certs-only`
# makes a CA and a serving certificate for the Service's DNS names, the key goes into the
# Secret the Deployment mounts, and the CA becomes the webhook configurations' caBundle.
#
#   deploy/webhook/self-signed/bootstrap.sh            # uses `palisade` and `kubectl` on PATH
#   PALISADE=./target/release/palisade KUBECTL=kubectl deploy/webhook/self-signed/bootstrap.sh
#
# The certificate is valid until it is replaced: to rotate, run the script again (the
# pods reload the Secret's files when the kubelet updates them).
set -euo pipefail

PALISADE=${PALISADE:-palisade}
KUBECTL=${KUBECTL:-kubectl}
NAMESPACE=palisade-system
SERVICE=palisade-webhook
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PALISADE" serve --self-signed --certs-only \
  --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" --ca-cert-out "$work/ca.crt" \
  --dns-name "$SERVICE.$NAMESPACE.svc" --dns-name "$SERVICE.$NAMESPACE.svc.cluster.local"

"$KUBECTL" apply -f "$here/../base/namespace.yaml"
"$KUBECTL" -n "$NAMESPACE" create secret tls palisade-webhook-tls \
  --cert "$work/tls.crt" --key "$work/tls.key" --dry-run=client -o yaml | "$KUBECTL" apply -f -

ca_bundle=$(base64 -w0 < "$work/ca.crt")
for f in namespace rbac config networkpolicy deployment; do
  "$KUBECTL" apply -f "$here/../base/$f.yaml"
done
"$KUBECTL" -n "$NAMESPACE" rollout status deployment/palisade-webhook --timeout=180s
# The webhooks last, once a replica answers, with the CA filled in.
sed "s|^    clientConfig:|    clientConfig:\n      caBundle: $ca_bundle|" "$here/../base/webhooks.yaml" \
  | "$KUBECTL" apply -f -
