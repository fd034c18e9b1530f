/** Namespaces of the file transfer extensions this plugin speaks. */
export const NS_HTTP_UPLOAD = 'urn:xmpp:http:upload:0';
export const NS_OOB = 'jabber:x:oob';
export const NS_JINGLE = 'urn:xmpp:jingle:1';
export const NS_JINGLE_FT = 'urn:xmpp:jingle:apps:file-transfer:5';
export const NS_JINGLE_S5B = 'urn:xmpp:jingle:transports:s5b:1';
export const NS_JINGLE_IBB = 'urn:xmpp:jingle:transports:ibb:1';
export const NS_IBB = 'http://jabber.org/protocol/ibb';
export const NS_BYTESTREAMS = 'http://jabber.org/protocol/bytestreams';
export const NS_HASHES = 'urn:xmpp:hashes:2';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_DATA_FORMS = 'jabber:x:data';

/** What a peer learns from our disco#info about files (XEP-0234 §4, XEP-0300 §4). */
export const FILE_TRANSFER_FEATURES = [
  NS_OOB,
  NS_JINGLE,
  NS_JINGLE_FT,
  NS_JINGLE_S5B,
  NS_JINGLE_IBB,
  NS_IBB,
  NS_HASHES,
  'urn:xmpp:hash-function-text-names:sha-256',
];
