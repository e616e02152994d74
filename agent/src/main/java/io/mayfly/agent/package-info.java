/** The data plane: runs instances with drivers, checks their health and routes traffic to them. */
package io.mayfly.agent;
