/** djb's exit codes: success, permanent failure, temporary failure. */
export const EXIT_OK = 0;
export const EXIT_PERMANENT = 100;
export const EXIT_TEMPORARY = 111;
