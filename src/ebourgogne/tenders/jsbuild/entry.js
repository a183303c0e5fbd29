// What the bid page and the workstation test use from age-encryption, exposed as the global `ebAge`
// (see build.mjs). X25519 only on our side: uploader.js refuses any other recipient type.
export { Encrypter, Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
export { sha256 } from "@noble/hashes/sha2.js";
