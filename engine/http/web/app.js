/* placeholder: written by the web helper */
