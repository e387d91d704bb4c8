/*!
 * Pusher JavaScript Library v<VERSION>
 * http://pusherapp.com/
 *
 * Copyright 2013, Pusher
 * Released under the MIT licence.
 */
