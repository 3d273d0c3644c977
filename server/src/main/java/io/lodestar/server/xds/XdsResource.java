package io.lodestar.server.xds;

import com.google.common.hash.Hashing;
import com.google.protobuf.Any;
import com.google.protobuf.Message;

/**
 * One generated xDS resource, packed once and shared by every stream that sends it. Its version
 * is a hash of its bytes, so a rebuild that changes nothing is not sent again, and a restarted
 * server offers the same versions for the same content.
 */
record XdsResource(String name, Any body, long hash) {

  static XdsResource of(String name, Message message) {
    Any any = Any.pack(message);
    long hash = Hashing.murmur3_128().hashBytes(any.toByteArray()).asLong();
    return new XdsResource(name, any, hash);
  }
}
