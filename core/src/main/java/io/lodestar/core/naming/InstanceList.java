package io.lodestar.core.naming;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.Instance;
import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A view's instances: the registry's compact entries, rendered to wire-form messages once, the
 * first time anyone reads them, and kept with the view from then on. A view nobody reads (most of
 * them, between two changes of a service nobody watches) costs its compact entries only. The
 * view's wire form (a snapshot's bytes) is kept here too, once someone renders it.
 */
final class InstanceList extends AbstractList<Instance> implements RandomAccess {
  private final StoredInstance[] stored;
  private volatile Instance[] rendered;
  private volatile ByteString wire;

  /** @param stored in the view's order (by id); not copied */
  InstanceList(StoredInstance[] stored) {
    this.stored = stored;
  }

  @Override
  public Instance get(int index) {
    return rendered()[index];
  }

  @Override
  public int size() {
    return stored.length;
  }

  /** The compact entries, in order, without rendering anything. */
  List<StoredInstance> stored() {
    return List.of(stored);
  }

  /** The compact entries themselves, in order: the registry's base for the next view; never modified. */
  StoredInstance[] storedArray() {
    return stored;
  }

  /** Each instance rendered and handed over without being kept: for one pass over many views. */
  void forEachFresh(Consumer<Instance> action) {
    Instance[] r = rendered;
    for (int i = 0; i < stored.length; i++) {
      action.accept(r != null ? r[i] : stored[i].toInstance());
    }
  }

  /** The view's wire form, rendered by the first caller and kept. */
  ByteString wire(Supplier<ByteString> render) {
    ByteString w = wire;
    if (w == null) {
      // two readers racing may both render; they render equal bytes and either copy serves
      w = render.get();
      wire = w;
    }
    return w;
  }

  private Instance[] rendered() {
    Instance[] r = rendered;
    if (r == null) {
      // two readers racing may both render; they render equal messages and either copy serves
      r = new Instance[stored.length];
      for (int i = 0; i < stored.length; i++) {
        r[i] = stored[i].toInstance();
      }
      rendered = r;
    }
    return r;
  }
}
