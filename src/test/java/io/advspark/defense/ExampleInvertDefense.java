package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.Random;

/**
 * A test-only defense that inverts every channel value above a threshold. It is the proof that
 * adding a defense is one class: nothing else in the code base names it, yet a target's
 * {@code defenses = ["example-invert(above=128) > model"]} parses into the plan and applies
 * ({@code ExampleDefenseTest}).
 *
 * @param above values strictly above this are inverted
 */
public record ExampleInvertDefense(int above) implements Defense {
    public static final Entry<ExampleInvertDefense> DECLARATION =
            Entry.of(Kind.DEFENSE, "example-invert", ExampleInvertDefense.class)
                    .summary("Test only: inverts the channel values above a threshold")
                    .paper(Entry.NO_PAPER)
                    .param(Param.integer("above", 128, 0, 255, "values strictly above this are inverted"))
                    .build(s -> new ExampleInvertDefense(s.integer("above")));

    @Override
    public RgbImage apply(RgbImage image, Random rnd) {
        byte[] in = image.pixels();
        byte[] out = new byte[in.length];
        for (int i = 0; i < in.length; i++) {
            int v = in[i] & 0xff;
            out[i] = (byte) (v > above ? 255 - v : v);
        }
        return new RgbImage(image.height(), image.width(), out);
    }
}
