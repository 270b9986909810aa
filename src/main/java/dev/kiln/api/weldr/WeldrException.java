package dev.kiln.api.weldr;

import org.springframework.http.HttpStatus;

/** A request that fails with one Weldr error (id and message, HTTP 400 unless said otherwise). */
class WeldrException extends RuntimeException {

    private final String id;
    private final HttpStatus status;

    WeldrException(String id, String message) {
        this(id, message, HttpStatus.BAD_REQUEST);
    }

    WeldrException(String id, String message, HttpStatus status) {
        super(message);
        this.id = id;
        this.status = status;
    }

    String id() {
        return id;
    }

    HttpStatus status() {
        return status;
    }

    static WeldrException notFound() {
        return new WeldrException("HTTPError", "Not Found", HttpStatus.NOT_FOUND);
    }
}
