package io.advspark.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;

/**
 * Where a dataset keeps its manifest and its images, chosen by {@code advspark.dataset.layout}.
 * The attack reads images and the evaluation reads clean ones through the same lookup.
 * {@link Tianchi} is the one layout today; a new one implements this interface and is added to
 * {@link #forName}.
 */
public interface DatasetLayout extends java.io.Serializable {

    /** The layout's name, as {@code advspark.dataset.layout} spells it. */
    String name();

    /** The manifest (the CSV of ImageIds and labels) of a dataset folder. */
    String manifestUri(String datasetUri, String manifest);

    /** Where the image of {@code imageId} is looked for first: the location errors name. */
    String imageUri(String datasetUri, String imageId);

    /** An image's bytes and the URI they were read from (named by decode errors). */
    record Image(String uri, byte[] bytes) {}

    /**
     * Reads the image of {@code imageId}.
     *
     * @throws NotFound naming {@link #imageUri} when the dataset has no such image
     * @throws IOException when it is there but cannot be read
     */
    Image read(Storage storage, String datasetUri, String imageId) throws IOException;

    /** The dataset has no image for an ImageId; {@link #uri} is where it was looked for first. */
    final class NotFound extends FileNotFoundException {
        private static final long serialVersionUID = 1L;
        private final String uri;

        public NotFound(String uri) {
            super(uri + ": file not found");
            this.uri = uri;
        }

        public String uri() {
            return uri;
        }
    }

    /** The names {@link #forName} knows. */
    static List<String> names() {
        return List.of(Tianchi.NAME);
    }

    /** The layout called {@code name}; an {@link IllegalArgumentException} naming the known ones if none is. */
    static DatasetLayout forName(String name) {
        if (Tianchi.NAME.equals(name)) {
            return Tianchi.INSTANCE;
        }
        throw new IllegalArgumentException("unknown layout '" + name + "' (supported: " + String.join(", ", names()) + ")");
    }

    /**
     * The Tianchi / NIPS-2017 competition layout: the manifest (e.g. {@code dev.csv}) in the
     * dataset folder and each image at {@code images/<ImageId>}, or flat at {@code <ImageId>}
     * beside the manifest.
     */
    final class Tianchi implements DatasetLayout {
        public static final String NAME = "tianchi";
        static final Tianchi INSTANCE = new Tianchi();
        private static final long serialVersionUID = 1L;

        private Tianchi() {}

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String manifestUri(String datasetUri, String manifest) {
            return Storage.join(datasetUri, manifest);
        }

        @Override
        public String imageUri(String datasetUri, String imageId) {
            return Storage.join(Storage.join(datasetUri, "images"), imageId);
        }

        @Override
        public Image read(Storage storage, String datasetUri, String imageId) throws IOException {
            String uri = imageUri(datasetUri, imageId);
            try {
                return new Image(uri, storage.readAll(uri));
            } catch (FileNotFoundException e) {
                // The Tianchi layout also appears flat (PNGs next to dev.csv).
                String flat = Storage.join(datasetUri, imageId);
                if (!storage.isFile(flat)) {
                    throw new NotFound(uri);
                }
                return new Image(flat, storage.readAll(flat));
            }
        }

        private Object readResolve() {
            return INSTANCE;
        }
    }
}
