package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.function.BiFunction;

/** Applies a per-row function to a batch and stacks the rows back (differentiable). */
final class Rows {
    private Rows() {}

    static NDArray map(NDArray x, BiFunction<Integer, NDArray, NDArray> f) {
        int rows = (int) x.getShape().get(0);
        NDList out = new NDList(rows);
        for (int r = 0; r < rows; r++) {
            out.add(f.apply(r, x.get(new NDIndex("{}:{}", r, r + 1))));
        }
        return concat(out);
    }

    /**
     * Concatenates on the batch axis. One part is returned as it is: DJL's {@code concat} of a
     * single array returns a copy outside the autograd graph, which broke the gradient of every
     * per-row transform on a batch of one image.
     */
    static NDArray concat(NDList parts) {
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
    }
}
