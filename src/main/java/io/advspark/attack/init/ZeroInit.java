package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;

/** x_0 = x: the deterministic start of FGSM, I-FGSM and MI-FGSM. */
public record ZeroInit() implements Initializer {
    public static final Entry<ZeroInit> DECLARATION = Entry.of(Kind.INIT, "zeros", ZeroInit.class)
            .summary("Start at the clean image")
            .paper(Entry.NO_PAPER)
            .build(s -> new ZeroInit());

    @Override
    public NDArray start(StepContext ctx) {
        return ctx.clean().duplicate();
    }
}
