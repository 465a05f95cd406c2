package io.advspark.attack.augment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.Draws;
import io.advspark.model.Classifier;
import io.advspark.vocabulary.Catalogue;
import java.util.ArrayList;
import java.util.List;

/**
 * A random change of the surrogates themselves for every forward pass (as opposed to input
 * transforms, which change the image): e.g. dropout switched on inside the model, which turns one
 * surrogate into an ensemble of "ghost" networks (Li et al., AAAI 2020). Chosen by
 * {@code attack.augment}; applies to the surrogates whose {@code augment} flag is on.
 *
 * <p>A site augmentation (dropout) acts through the model's dropout sites (see {@link Classifier}):
 * it returns a multiplicative mask per site, drawn from the batch's per-image streams, and the
 * model multiplies the activation at each site by it. The model never leaves eval mode. The
 * {@link Checkpoints} augmentation instead picks, per step and image, which members of a
 * checkpoint group compute the image's logits.
 */
public interface ModelAugmentation {

    /**
     * The masks of one forward pass: for each site {@code k}, {@code rows * prod(sites.get(k))}
     * factors, row-major ({@code [rows, *sites.get(k)]}). Row {@code r} draws from
     * {@code draws.rng(r)}, i.e. from image {@code r % N}'s stream, so an image's masks do not depend
     * on its batch-mates.
     *
     * @param sites per-image activation shapes at the model's sites
     * @param rows rows of the batch (images times copies)
     * @param draws the batch's random streams
     */
    float[][] masks(List<long[]> sites, int rows, Draws draws);

    /**
     * Whether this augmentation acts through the models' dropout sites ({@link #masks}); false for
     * one that chooses among the models instead ({@link Checkpoints}: the members of a checkpoint
     * group), which the engine asks for its choice once per step.
     */
    default boolean usesDropoutSites() {
        return true;
    }

    /**
     * Checks, before any image is processed, that {@code model} really applies this augmentation;
     * throws {@link IllegalArgumentException} with the reason if not.
     *
     * @param manager for the probe's tensors
     */
    void checkSupport(Classifier model, NDManager manager);

    /**
     * The canonical spec, e.g. {@code dropout(p=0.006)}, rendered from the class's catalogue declaration
     * (records and seeds key on it, so it never changes for the same values).
     */
    default String spec() {
        return Catalogue.render(this);
    }

    /**
     * Wraps {@link #masks} output as arrays {@code [rows, *site]} in {@code manager}, copied into
     * memory libtorch owns: the forward saves the masks for the backward pass, and DJL's CPU
     * {@code create(array)} would otherwise leave them in a Java buffer that lives only as long as
     * the array object (see {@code BilinearResize}).
     */
    static NDList toArrays(float[][] masks, List<long[]> sites, int rows, NDManager manager) {
        List<NDArray> out = new ArrayList<>(masks.length);
        for (int k = 0; k < masks.length; k++) {
            long[] s = sites.get(k);
            long[] shape = new long[s.length + 1];
            shape[0] = rows;
            System.arraycopy(s, 0, shape, 1, s.length);
            NDArray wrapped = manager.create(masks[k], new Shape(shape));
            out.add(wrapped.duplicate());
            wrapped.close();
        }
        return new NDList(out);
    }
}
