package io.advspark.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;

/**
 * Where a dataset keeps its manifest and its images, chosen by {@code advspark.dataset.layout}.
 * The attack reads images and the evaluation reads clean ones through the same lookup.
 * {@link Tianchi} (a CSV and {@code images/}) and {@link ImageFolder} ({@code <class>/<file>});
 * a new layout implements this interface and is added to {@link #forName}.
 */
public interface DatasetLayout extends java.io.Serializable {

    /** The layout's name, as {@code advspark.dataset.layout} spells it. */
    String name();

    /** The manifest (the CSV of ImageIds and labels) of a dataset folder: where it is read, or what it is made from. */
    String manifestUri(String datasetUri, String manifest);

    /**
     * The manifest's bytes: the CSV read, or made from the folder's listing. Its bytes fingerprint
     * the dataset for the round's resume identity, so a layout makes them the same for the same
     * folder.
     *
     * @param classes the class-order file inside the folder, or "" (image-folder)
     * @param labelBase the dataset's label convention (the labels a made manifest writes)
     */
    default byte[] manifest(Storage storage, String datasetUri, String manifest, String classes, int labelBase)
            throws IOException {
        return storage.readAll(manifestUri(datasetUri, manifest));
    }

    /** The columns of {@link #manifest}'s CSV, given those configured. */
    default Manifest.Columns columns(Manifest.Columns configured) {
        return configured;
    }

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
        return List.of(Tianchi.NAME, ImageFolder.NAME);
    }

    /** The layout called {@code name}; an {@link IllegalArgumentException} naming the known ones if none is. */
    static DatasetLayout forName(String name) {
        if (Tianchi.NAME.equals(name)) {
            return Tianchi.INSTANCE;
        }
        if (ImageFolder.NAME.equals(name)) {
            return ImageFolder.INSTANCE;
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

    /**
     * torchvision's ImageFolder: each image at {@code <class>/<file>}, its label the class
     * folder's index in the class order (a file listing the folder names one per line, or the
     * sorted folder names), its target class drawn from its ImageId. The ImageId is the file name
     * when file names are unique across the class folders; when two folders hold the same name (a
     * common layout: {@code cat/0001.png}, {@code dog/0001.png}) every ImageId is
     * {@code <class>_<file>}, so an image's outputs stay keyed by a plain, unique name.
     * Images are read by ImageId through a listing of the folder, made once per JVM and dataset.
     */
    final class ImageFolder implements DatasetLayout {
        public static final String NAME = "image-folder";
        static final ImageFolder INSTANCE = new ImageFolder();
        private static final long serialVersionUID = 1L;
        /** ImageId -> {class folder, file name}, per dataset folder: read once per JVM (executors read many images). */
        private static final java.util.concurrent.ConcurrentHashMap<String, java.util.Map<String, String[]>> INDEX =
                new java.util.concurrent.ConcurrentHashMap<>();

        private ImageFolder() {}

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String manifestUri(String datasetUri, String manifest) {
            return datasetUri; // made from the folder's listing
        }

        @Override
        public String imageUri(String datasetUri, String imageId) {
            java.util.Map<String, String[]> index = INDEX.get(datasetUri);
            String[] at = index == null ? null : index.get(imageId);
            return at == null ? Storage.join(datasetUri, imageId) : Storage.join(Storage.join(datasetUri, at[0]), at[1]);
        }

        /**
         * ImageId -> {class folder, file name}: the file names, or {@code <class>_<file>} for every
         * image when a file name occurs in two class folders. Fails when ids still collide.
         */
        static java.util.Map<String, String[]> ids(String datasetUri, java.util.Map<String, List<String>> folders)
                throws Manifest.ManifestException {
            java.util.Set<String> names = new java.util.HashSet<>();
            boolean prefix = false;
            for (List<String> files : folders.values()) {
                for (String f : files) {
                    prefix |= !names.add(f);
                }
            }
            java.util.Map<String, String[]> out = new java.util.HashMap<>();
            for (var e : folders.entrySet()) {
                for (String f : e.getValue()) {
                    String id = prefix ? e.getKey() + "_" + f : f;
                    String[] other = out.put(id, new String[] {e.getKey(), f});
                    if (other != null) {
                        throw new Manifest.ManifestException(datasetUri + ": '" + other[0] + "/" + other[1] + "' and '"
                                + e.getKey() + "/" + f + "' would both be ImageId '" + id + "': rename one");
                    }
                }
            }
            return out;
        }

        @Override
        public Manifest.Columns columns(Manifest.Columns configured) {
            return new Manifest.Columns("ImageId", "TrueLabel", "");
        }

        /** A file an ImageFolder takes as an image: a PNG or JPEG by its name, not hidden. */
        public static boolean isImage(String name) {
            String n = name.toLowerCase(java.util.Locale.ROOT);
            return !n.startsWith(".") && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
        }

        /** Class folder -> its image file names, sorted; folders in name order. */
        private static java.util.TreeMap<String, List<String>> listing(Storage storage, String datasetUri) throws IOException {
            java.util.TreeMap<String, List<String>> out = new java.util.TreeMap<>();
            for (Storage.Child c : storage.listChildren(datasetUri)) {
                if (!c.directory() || c.name().startsWith(".") || c.name().startsWith("_")) {
                    continue;
                }
                List<String> files = new java.util.ArrayList<>();
                for (Storage.Child f : storage.listChildren(Storage.join(datasetUri, c.name()))) {
                    if (!f.directory() && isImage(f.name())) {
                        files.add(f.name());
                    }
                }
                java.util.Collections.sort(files);
                out.put(c.name(), files);
            }
            return out;
        }

        @Override
        public byte[] manifest(Storage storage, String datasetUri, String manifest, String classes, int labelBase)
                throws IOException {
            java.util.TreeMap<String, List<String>> folders = listing(storage, datasetUri);
            if (folders.isEmpty()) {
                throw new Manifest.ManifestException(datasetUri + ": no class folders (image-folder layout:"
                        + " <class>/<file>.png or .jpg)");
            }
            List<String> order;
            if (classes == null || classes.isEmpty()) {
                order = new java.util.ArrayList<>(folders.keySet());
            } else {
                String uri = Storage.join(datasetUri, classes);
                order = new java.util.ArrayList<>();
                for (String line : new String(storage.readAll(uri), java.nio.charset.StandardCharsets.UTF_8).split("\\R")) {
                    if (!line.isBlank()) {
                        order.add(line.trim());
                    }
                }
                for (String f : folders.keySet()) {
                    if (!order.contains(f)) {
                        throw new Manifest.ManifestException(uri + ": the class folder '" + f + "' is not listed (each"
                                + " line names a class folder, in the models' label order)");
                    }
                }
            }
            java.util.Map<String, String[]> ids = ids(datasetUri, folders);
            java.util.Map<String, String> idOf = new java.util.HashMap<>();
            ids.forEach((id, at) -> idOf.put(at[0] + "/" + at[1], id));
            StringBuilder csv = new StringBuilder("ImageId,TrueLabel\n");
            for (int label = 0; label < order.size(); label++) {
                for (String file : folders.getOrDefault(order.get(label), List.of())) {
                    csv.append(Manifest.quote(idOf.get(order.get(label) + "/" + file))).append(',').append(label + labelBase)
                            .append('\n');
                }
            }
            INDEX.put(datasetUri, ids);
            return csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public Image read(Storage storage, String datasetUri, String imageId) throws IOException {
            java.util.Map<String, String[]> index = INDEX.get(datasetUri);
            if (index == null) {
                java.util.Map<String, String[]> built = ids(datasetUri, listing(storage, datasetUri));
                index = INDEX.computeIfAbsent(datasetUri, k -> built);
            }
            String[] at = index.get(imageId);
            if (at == null) {
                throw new NotFound(Storage.join(datasetUri, "<class>/" + imageId));
            }
            String uri = Storage.join(Storage.join(datasetUri, at[0]), at[1]);
            return new Image(uri, storage.readAll(uri));
        }

        private Object readResolve() {
            return INSTANCE;
        }
    }
}
