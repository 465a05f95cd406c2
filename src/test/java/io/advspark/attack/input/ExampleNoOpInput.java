package io.advspark.attack.input;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * A test-only input transform that leaves the iterate as it is ({@code x * 1}, exact in float).
 * It is the proof that adding a part is one class: nothing else in the code base names it, yet
 * {@code attack.input = ["example-noop"]} parses, builds and runs ({@code CatalogueWalkTest}).
 *
 * @param times how often the identity is applied
 */
public record ExampleNoOpInput(int times) implements InputTransform {
    public static final Entry<ExampleNoOpInput> DECLARATION = Entry.of(Kind.INPUT, "example-noop", ExampleNoOpInput.class)
            .summary("Test only: returns the iterate unchanged")
            .paper(Entry.NO_PAPER)
            .param(Param.integer("times", 1, 1, 3, "how often the identity is applied"))
            .build(s -> new ExampleNoOpInput(s.integer("times")));

    @Override
    public NDArray apply(NDArray x, StepContext ctx) {
        NDArray y = x;
        for (int i = 0; i < times; i++) {
            y = y.mul(1f);
        }
        return y;
    }
}
