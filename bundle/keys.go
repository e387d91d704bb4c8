package bundle

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
)

// ReadPrivateKey reads an Ed25519 private key in the PEM form that
// `openssl genpkey -algorithm ed25519` writes (PKCS #8, "PRIVATE KEY").
// An error names the file and says what it holds instead.
func ReadPrivateKey(file string) (ed25519.PrivateKey, error) {
	der, err := readPEM(file, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS #8 private key: %v", file, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 key; make one with: openssl genpkey -algorithm ed25519 -out %s", file, k, file)
	}
	return ek, nil
}

// ReadPublicKey reads an Ed25519 public key in PEM ("PUBLIC KEY", as
// `openssl pkey -in KEY.pem -pubout` writes it).
func ReadPublicKey(file string) (ed25519.PublicKey, error) {
	der, err := readPEM(file, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: not a public key: %v", file, err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an Ed25519 public key", file, k)
	}
	return ek, nil
}

func readPEM(file, kind string) ([]byte, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	switch {
	case b == nil:
		return nil, fmt.Errorf("%s: not a PEM file (want -----BEGIN %s-----)", file, kind)
	case b.Type != kind:
		return nil, fmt.Errorf("%s: holds a %q, want a %q (the private key signs, with --sign-key; the public key verifies, with --verify-key: openssl pkey -in KEY.pem -pubout -out PUB.pem)", file, b.Type, kind)
	}
	return b.Bytes, nil
}

// KeyID names a public key in messages: "ed25519:" and the first 16 hex
// digits of its SHA-256. It says which key, and is no secret.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}
