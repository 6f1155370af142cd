import { AppShell, Center, Container, Loader } from "@mantine/core";
import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router-dom";

import Header from "./components/Header";
import PrivateRoute from "./components/PrivateRoute";
import HomePage from "./pages/HomePage";
import LoginPage from "./pages/LoginPage";
import ManageBookingPage from "./pages/ManageBookingPage";
import MyTripsPage from "./pages/MyTripsPage";
import OrderConfirmationPage from "./pages/OrderConfirmationPage";
import OrderReviewPage from "./pages/OrderReviewPage";
import TripPassengersPage from "./pages/TripPassengersPage";
import MyBookingsPage from "./pages/MyBookingsPage";
import NotFoundPage from "./pages/NotFoundPage";
import NotificationsPage from "./pages/NotificationsPage";
import RegisterPage from "./pages/RegisterPage";

// Only administrators need the admin screens; everyone else never downloads them.
const AdminPage = lazy(() => import("./pages/AdminPage"));
const AdminOperationsPage = lazy(() => import("./pages/AdminOperationsPage"));

export default function App() {
  return (
    <AppShell header={{ height: 60 }} padding="md">
      <AppShell.Header>
        <Header />
      </AppShell.Header>
      <AppShell.Main>
        <Container size="lg" px={{ base: 0, sm: "md" }}>
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            {/* The single-itinerary booking page gave way to the orders flow (search → passengers → review). */}
            <Route path="/book" element={<Navigate to="/" replace />} />
            <Route
              path="/trip/passengers"
              element={
                <PrivateRoute>
                  <TripPassengersPage />
                </PrivateRoute>
              }
            />
            <Route
              path="/trip/review"
              element={
                <PrivateRoute>
                  <OrderReviewPage />
                </PrivateRoute>
              }
            />
            <Route
              path="/trips"
              element={
                <PrivateRoute>
                  <MyTripsPage />
                </PrivateRoute>
              }
            />
            <Route
              path="/trips/:id"
              element={
                <PrivateRoute>
                  <OrderConfirmationPage />
                </PrivateRoute>
              }
            />
            <Route path="/manage" element={<ManageBookingPage />} />
            <Route
              path="/bookings"
              element={
                <PrivateRoute>
                  <MyBookingsPage />
                </PrivateRoute>
              }
            />
            <Route
              path="/admin"
              element={
                <PrivateRoute adminOnly>
                  <Suspense
                    fallback={
                      <Center py="xl">
                        <Loader aria-label="Loading" />
                      </Center>
                    }
                  >
                    <AdminPage />
                  </Suspense>
                </PrivateRoute>
              }
            />
            <Route
              path="/notifications"
              element={
                <PrivateRoute>
                  <NotificationsPage />
                </PrivateRoute>
              }
            />
            {/* Not under /admin/: the API owns /admin/... (a reload there would reach it, not the app). */}
            <Route
              path="/operations"
              element={
                <PrivateRoute adminOnly>
                  <Suspense fallback={<Loader aria-label="Loading" />}>
                    <AdminOperationsPage />
                  </Suspense>
                </PrivateRoute>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
