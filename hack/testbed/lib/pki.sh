#!/usr/bin/env bash
# pki.sh: the test bed's certificates (openssl) and kubeconfigs; keeps what exists.
#   ca              self-signed cluster CA, client CA of the apiserver and the kubelet
#   apiserver       serving cert for 127.0.0.1, the node IP, the kubernetes Service IP
#   admin, controller-manager, scheduler, kubelet, kube-proxy: client certs
#   sa              service-account token signing key pair
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$TB_PKI"
cd "$TB_PKI"
umask 077

if [ ! -f ca.key ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/CN=devloop-testbed-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
fi
if [ ! -f sa.key ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
  openssl pkey -in sa.key -pubout -out sa.pub
fi

# cert NAME SUBJECT EXTKEYUSAGE [SAN]
cert() {
  local name=$1 subj=$2 eku=$3 san=${4:-}
  [ -f "$name.crt" ] && return 0
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 3650 -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$TB_NODE_IP,IP:$TB_SERVICE_APISERVER_IP"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$TB_NODE_NAME" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth

# kubeconfig NAME USER: $TB_STATE/NAME.kubeconfig with embedded certs, context $TB_CONTEXT
kubeconfig() {
  local name=$1 user=$2
  [ -f "$TB_STATE/$name.kubeconfig" ] && return 0
  cat >"$TB_STATE/$name.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: $TB_CONTEXT
  cluster:
    server: https://127.0.0.1:$TB_APISERVER_PORT
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $TB_CONTEXT-$name
  user:
    client-certificate-data: $(base64 -w0 "$name.crt")
    client-key-data: $(base64 -w0 "$name.key")
contexts:
- name: $TB_CONTEXT
  context: {cluster: $TB_CONTEXT, user: $TB_CONTEXT-$name}
current-context: $TB_CONTEXT
KC
  chmod 600 "$TB_STATE/$name.kubeconfig"
}
kubeconfig admin admin
kubeconfig controller-manager system:kube-controller-manager
kubeconfig scheduler system:kube-scheduler
kubeconfig kubelet "system:node:$TB_NODE_NAME"
kubeconfig kube-proxy system:kube-proxy
